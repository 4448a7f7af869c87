// The duty-room status page served at GET / on the admin listener (issue 5 item 5): every
// trunk by province with its state, calls against capacity, 15-minute answer figures and
// probe RTT. One self-contained HTML document (inline CSS and JS, no external asset, works
// offline) that refreshes itself every 5 s from GET /api/v1/trunks and GET /api/v1/status.
#pragma once

#include <string>

namespace sb::admin {

// The page as UTF-8 text/html. Built once; every call returns the same text.
std::string statusPageHtml();

}  // namespace sb::admin
