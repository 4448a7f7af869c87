#include "records/call_record.hpp"

#include <array>
#include <cstdio>

#include "core/json_text.hpp"

namespace sb::records {
namespace {

void appendRegion(std::string& out, std::string_view key, core::RegionCode code, bool present) {
  out += ",\"";
  out += key;
  out += "\":\"";
  if (present) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06u", code);
    out += buf;
  }
  out += '"';
}

void appendInt(std::string& out, std::string_view key, std::int64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(value);
}

void appendText(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  core::appendJsonString(out, value);
}

}  // namespace

std::string_view resultName(Result r) {
  static constexpr std::array<std::string_view, static_cast<std::size_t>(Result::kCount)> names = {
      "answered", "abandoned", "failed"};
  return names[static_cast<std::size_t>(r)];
}

std::string_view failReasonName(FailReason r) {
  static constexpr std::array<std::string_view, static_cast<std::size_t>(FailReason::kCount)>
      names = {"",     "acl",          "rate_limit",  "malformed", "no_route",
               "loop", "max_forwards", "unsupported", "capacity",  "unavailable",
               "busy", "rejected",     "timeout",     "shutdown"};
  return names[static_cast<std::size_t>(r)];
}

std::string_view endReasonName(EndReason r) {
  static constexpr std::array<std::string_view, static_cast<std::size_t>(EndReason::kCount)> names =
      {"caller_bye",   "callee_bye",   "caller_cancel", "trunk_final",
       "ring_timeout", "max_duration", "shutdown",      "rejected"};
  return names[static_cast<std::size_t>(r)];
}

std::string_view attemptResultName(AttemptResult r) {
  static constexpr std::array<std::string_view, static_cast<std::size_t>(AttemptResult::kCount)>
      names = {"answered", "busy", "failed", "timeout", "cancelled"};
  return names[static_cast<std::size_t>(r)];
}

std::string maskCaller(std::string_view raw) {
  core::NationalNumber national = core::nationalNumber(raw);
  std::string_view digits = national.view();
  std::string out;
  for (char c : digits) {
    if (c < '0' || c > '9') continue;
    out += out.size() < kCallerDigitsKept ? c : '*';
  }
  return out;
}

std::string dialledText(std::string_view user) {
  return std::string(user.substr(0, std::min(user.size(), kMaxDialled)));
}

std::string encode(const CallRecord& r, std::string_view instance) {
  std::string out;
  out.reserve(384 + 64 * r.attempts.size());
  out += "{\"v\":";
  out += std::to_string(kSchemaVersion);
  appendText(out, "call_id", r.call_id);
  appendText(out, "instance", instance);
  appendText(out, "source", r.source);
  appendText(out, "origin", r.origin);
  appendText(out, "dialled", r.dialled);
  appendText(out, "caller", r.caller);
  bool has_region = r.routed && r.region != core::kNoRegion;
  appendRegion(out, "region", r.region, has_region);
  appendRegion(out, "province", core::provinceOf(r.region), has_region);
  // A province-level key is its own city (docs/call-records.md).
  appendRegion(out, "city", core::isProvinceCode(r.region) ? r.region : core::cityOf(r.region),
               has_region);
  appendText(out, "level", r.routed ? core::levelName(r.level) : std::string_view());
  appendText(out, "topic", r.topic);
  out += ",\"attempts\":[";
  for (std::size_t i = 0; i < r.attempts.size(); ++i) {
    const Attempt& a = r.attempts[i];
    if (i) out += ',';
    out += "{\"trunk\":";
    core::appendJsonString(out, a.trunk);
    out += ",\"code\":";
    out += std::to_string(a.code);
    out += ",\"result\":\"";
    out += attemptResultName(a.result);
    out += "\"}";
  }
  out += ']';
  appendText(out, "trunk", r.attempts.empty() ? std::string_view() : r.attempts.back().trunk);
  appendInt(out, "t_invite", r.t_invite);
  appendInt(out, "t_ring", r.t_ring);
  appendInt(out, "t_answer", r.t_answer);
  appendInt(out, "t_end", r.t_end);
  appendInt(out, "code", r.code);
  appendText(out, "result", resultName(r.result));
  appendText(out, "fail_reason",
             r.result == Result::Failed ? failReasonName(r.fail_reason) : std::string_view());
  appendText(out, "end_reason", endReasonName(r.end_reason));
  out += '}';
  return out;
}

}  // namespace sb::records
