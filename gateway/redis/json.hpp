// The JSON reader lives in the core (core/json_value.hpp) and the string writer too
// (core/json_text.hpp); the Redis adapter uses them under its own names.
#pragma once

#include "core/json_text.hpp"
#include "core/json_value.hpp"

namespace sb::redis::detail {

using core::appendJsonString;
using core::JsonValue;
using core::parseJson;

}  // namespace sb::redis::detail
