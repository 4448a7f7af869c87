// Rendering a routing decision as text and JSON (switchboardctl route explain, admin API).
#include "core/explain.hpp"

#include <cstdio>
#include <vector>

#include "core/china_time.hpp"
#include "core/json_text.hpp"
#include "core/text_width.hpp"

namespace sb::core {
namespace {

// How far ahead "opens at"/"closes at" looks: a Golden Week holiday plus a weekend.
constexpr std::int64_t kHoursHorizon = 14 * kSecondsPerDay;

std::string codeText(RegionCode code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06u", code);
  return buf;
}

std::string_view serviceText(Service service) {
  return service == Service::Exam12370 ? "12370" : "12333";
}

std::string_view formName(DialledForm form) {
  switch (form) {
    case DialledForm::Division:
      return "division";
    case DialledForm::AreaCode:
      return "area_code";
    case DialledForm::Bare:
      return "bare";
  }
  return "bare";
}

std::string_view statusPhrase(int status) {
  switch (status) {
    case 404:
      return "Not Found";
    case 484:
      return "Address Incomplete";
    case 503:
      return "Service Unavailable";
    default:
      return "";
  }
}

// Bytes from the wire made safe for a terminal: controls and DEL as \xNN, UTF-8 kept.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// The names of `code`, or of the nearest listed region above it ("in 苏州 Suzhou").
std::string regionNames(const RoutingTable& table, RegionCode code) {
  const auto names = [](const RegionInfo& info) {
    return info.name_en.empty() ? info.name_zh : info.name_zh + " " + info.name_en;
  };
  if (const RegionInfo* info = table.region(code)) return names(*info);
  for (const RegionCode up : {cityOf(code), provinceOf(code)}) {
    if (up == code) continue;
    if (const RegionInfo* info = table.region(up)) return "in " + names(*info);
  }
  return "";
}

std::string topicNames(const TopicInfo& info) {
  return info.name_en.empty() ? info.name_zh : info.name_zh + " (" + info.name_en + ")";
}

// "mon-fri 08:30-17:30, sat 09:00-12:00; closed 2026-10-01; open 2026-09-27 08:30-17:30".
std::string hoursText(const OpeningHours& hours) {
  std::string out;
  const auto list = [&out](std::string_view label, const std::vector<std::string>& items) {
    if (items.empty()) return;
    if (!out.empty()) out += "; ";
    out += label;
    for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? ", " : "") + items[i];
  };
  if (!hours.hasWeekly()) out = "7x24";
  list("", hours.weeklyRules());
  list("closed ", hours.closedDates());
  list("open ", hours.openDates());
  return out;
}

std::string sourceText(const Decision& d) {
  const std::string_view caller = d.caller.view();
  switch (d.region_source) {
    case RegionSource::DialledCode:
      return "from the dialled division code";
    case RegionSource::DialledAreaCode:
      return "from the dialled area code " + std::string(d.area_code);
    case RegionSource::CallerMobile:
      return "from the caller's mobile prefix " +
             std::string(caller.substr(0, d.caller_match_length));
    case RegionSource::CallerAreaCode:
      return "from the caller's area code " + std::string(caller.substr(0, d.caller_match_length));
    case RegionSource::None:
      break;
  }
  return "";
}

// A small JSON writer: members and elements separated by commas, nothing else.
class JsonWriter {
 public:
  std::string take() { return std::move(out_); }
  void beginObject() { open('{'); }
  void endObject() { close('}'); }
  void beginArray() { open('['); }
  void endArray() { close(']'); }
  JsonWriter& key(std::string_view name) {
    comma();
    appendJsonString(out_, name);
    out_ += ": ";
    pending_value_ = true;
    return *this;
  }
  void string(std::string_view value) {
    comma();
    appendJsonString(out_, value);
  }
  void stringOrNull(bool present, std::string_view value) {
    if (present) {
      string(value);
    } else {
      null();
    }
  }
  void number(std::int64_t value) {
    comma();
    out_ += std::to_string(value);
  }
  void boolean(bool value) {
    comma();
    out_ += value ? "true" : "false";
  }
  void null() {
    comma();
    out_ += "null";
  }
  void strings(const std::vector<std::string>& items) {
    beginArray();
    for (const std::string& item : items) string(item);
    endArray();
  }

 private:
  void comma() {
    if (pending_value_) {
      pending_value_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ", ";
      first_.back() = false;
    }
  }
  void open(char c) {
    comma();
    out_ += c;
    first_.push_back(true);
  }
  void close(char c) {
    first_.pop_back();
    out_ += c;
  }

  std::string out_;
  std::vector<bool> first_;
  bool pending_value_ = false;
};

void padTo(std::string& line, std::size_t width) {
  if (line.size() < width) line.append(width - line.size(), ' ');
}

void line(std::string& out, std::string_view label, const std::string& text) {
  std::string row(label);
  if (!text.empty()) padTo(row, 11);
  out += row + text + "\n";
}

}  // namespace

std::string explainText(const RoutingTable& table, const DecideInput& input, const Decision& d) {
  std::string out;
  const bool dial_ok = d.dial.ok();
  const bool bare = dial_ok && d.dial.dialled.form == DialledForm::Bare;

  // Dialled number.
  std::string dialled = "'" + printable(input.dialled) + "'";
  if (!dial_ok) {
    dialled += ": " + std::string(d.dial.reason);
  } else if (d.dial.dialled.form == DialledForm::Division) {
    dialled += ": " + std::string(serviceText(d.dial.dialled.service)) + " + division code " +
               codeText(d.dial.dialled.division);
  } else if (d.dial.dialled.form == DialledForm::AreaCode) {
    dialled += ": " + std::string(serviceText(d.dial.dialled.service)) + " + area code " +
               std::string(d.dial.dialled.area_code);
  } else {
    dialled += ": " + std::string(serviceText(d.dial.dialled.service)) +
               " alone, routed by the caller's home region";
  }
  line(out, "dialled", dialled);

  // Caller.
  std::string caller = input.caller.empty() ? "(none)" : "'" + printable(input.caller) + "'";
  if (!bare) {
    if (!input.caller.empty()) caller += " (not used: ";
    if (!input.caller.empty()) {
      caller += dial_ok ? "the dialled number names the region)" : "the number was rejected)";
    }
  } else if (d.caller.size == 0) {
    caller += " -> no usable number (withheld, foreign or not a phone number)";
  } else {
    caller += " -> " + std::string(d.caller.view());
    if (d.caller_match_length == 0) caller += ", matches no listed mobile prefix or area code";
  }
  line(out, "caller", caller);

  // Topic.
  std::string topic;
  switch (d.topic_status) {
    case TopicStatus::Absent:
      topic = "(none)";
      break;
    case TopicStatus::Valid: {
      topic = std::string(topicText(d.topic).view());
      if (const TopicInfo* info = table.topic(d.topic)) topic += " " + topicNames(*info);
      break;
    }
    case TopicStatus::Invalid:
      topic = "'" + printable(d.topic_text) + "' ignored: invalid (not a listed topic code)";
      break;
  }
  line(out, "topic", topic);
  line(out, "time", formatCst(input.now_unix) + " (unix " + std::to_string(input.now_unix) + ")");

  // Region.
  if (dial_ok) {
    std::string region;
    if (d.rejected_at == DecisionStage::Region) {
      region = d.dial.dialled.form == DialledForm::Division
                   ? codeText(d.dial.dialled.division) + ": " + std::string(d.reason)
                   : std::string(d.area_code) + ": " + std::string(d.reason);
    } else if (d.region == kNoRegion) {
      region = "none: the default route";
    } else {
      region = codeText(d.region);
      const std::string names = regionNames(table, d.region);
      if (!names.empty()) region += " " + names;
      region += ", " + sourceText(d);
    }
    line(out, "region", region);
  }

  // Route.
  if (dial_ok && d.rejected_at != DecisionStage::Region) {
    std::string route;
    if (d.found.route == nullptr) {
      route = "none: " + std::string(d.reason);
    } else {
      route = std::string(routeKeyText(d.found.matched, d.found.topic).view()) + " at " +
              std::string(levelName(d.found.level)) + " level";
      if (d.found.topic != kNoTopic) {
        route += " (topic route)";
      } else if (d.topic != kNoTopic) {
        route += " (no route for topic " + std::string(topicText(d.topic).view()) +
                 " at this level or above)";
      }
    }
    line(out, "route", route);
  }

  // Candidates.
  if (!d.candidates.empty()) {
    line(out, "candidates", "");
    std::size_t name_width = 0;
    std::size_t display_width = 0;
    for (const Candidate& c : d.candidates) {
      const Trunk& trunk = table.trunks()[c.trunk];
      name_width = std::max(name_width, trunk.name.size());
      display_width = std::max(display_width, displayColumns(trunk.display_name));
    }
    for (std::size_t i = 0; i < d.candidates.size(); ++i) {
      const Candidate& c = d.candidates[i];
      const Trunk& trunk = table.trunks()[c.trunk];
      std::string row = "  " + std::to_string(i + 1) + ". " + trunk.name;
      padTo(row, 6 + name_width + 2);
      row += trunk.display_name;
      row.append(display_width - displayColumns(trunk.display_name) + 2, ' ');
      row += "group " + std::to_string(c.group + 1);
      if (table.trunks().size() > 0 && d.found.route != nullptr &&
          d.found.route->groups[c.group].members.size() > 1) {
        row += ", weight " + std::to_string(c.weight);
      }
      row += "  ";
      row += c.usable() ? "usable" : "skipped: " + std::string(skipReasonName(c.skip));
      if (!trunk.hours.alwaysOpen()) {
        if (const auto change = trunk.hours.nextChange(input.now_unix, kHoursHorizon)) {
          row += std::string(trunk.openAt(input.now_unix) ? ", closes " : ", opens ") +
                 formatCst(*change);
        }
        row += "\n";
        padTo(row, row.size() + 5 + std::to_string(i + 1).size());
        row += "hours " + hoursText(trunk.hours);
      }
      out += row + "\n";
    }
  }

  // Answer.
  std::string answer;
  if (d.forward()) {
    for (const Candidate& c : d.candidates) {
      if (c.usable()) {
        answer = "forward to " + table.trunks()[c.trunk].name;
        break;
      }
    }
    answer += " (" + std::to_string(d.usable) + " of " + std::to_string(d.candidates.size()) +
              " candidates usable; the next is tried on 408, 5xx or no answer in time)";
  } else {
    answer = std::to_string(d.status) + " " + std::string(statusPhrase(d.status)) + ": " +
             std::string(d.reason) + (d.retry_after ? " (with Retry-After)" : "") + " [stage " +
             std::string(decisionStageName(d.rejected_at)) + "]";
  }
  line(out, "answer", answer);
  // Version 0 is never published (versions count from 1): a table read from files.
  line(out, "tables",
       table.version() == 0 ? "read from files (not a published version)"
                            : "version " + std::to_string(table.version()));
  return out;
}

std::string explainJson(const RoutingTable& table, const DecideInput& input, const Decision& d) {
  JsonWriter w;
  const bool dial_ok = d.dial.ok();
  const bool bare = dial_ok && d.dial.dialled.form == DialledForm::Bare;
  w.beginObject();
  w.key("table_version").number(static_cast<std::int64_t>(table.version()));

  w.key("input").beginObject();
  w.key("dialled").string(input.dialled);
  w.key("caller").string(input.caller);
  w.key("topic").string(input.topic);
  w.key("time").number(input.now_unix);
  w.key("time_cst").string(formatCst(input.now_unix));
  w.key("seed").string(std::to_string(input.random));  // a string: JSON numbers lose 64 bits
  w.endObject();

  w.key("dialled").beginObject();
  w.key("ok").boolean(dial_ok);
  w.key("service").stringOrNull(dial_ok, serviceText(d.dial.dialled.service));
  w.key("form").stringOrNull(dial_ok, formName(d.dial.dialled.form));
  w.key("division")
      .stringOrNull(dial_ok && d.dial.dialled.form == DialledForm::Division,
                    codeText(d.dial.dialled.division));
  w.key("area_code")
      .stringOrNull(dial_ok && d.dial.dialled.form == DialledForm::AreaCode,
                    d.dial.dialled.area_code);
  w.key("error").stringOrNull(!dial_ok, d.dial.reason);
  w.endObject();

  w.key("caller").beginObject();
  w.key("national").stringOrNull(bare && d.caller.size > 0, d.caller.view());
  w.key("matched").stringOrNull(d.caller_match_length > 0,
                                d.caller.view().substr(0, d.caller_match_length));
  w.key("used").boolean(bare);
  w.endObject();

  const bool region_known = d.region != kNoRegion;
  const RegionInfo* names = region_known ? table.region(d.region) : nullptr;
  w.key("region").beginObject();
  w.key("code").stringOrNull(region_known, codeText(d.region));
  w.key("source").string(regionSourceName(d.region_source));
  w.key("name_zh").stringOrNull(names != nullptr, names ? names->name_zh : "");
  w.key("name_en").stringOrNull(names != nullptr, names ? names->name_en : "");
  w.endObject();

  const TopicInfo* topic = d.topic != kNoTopic ? table.topic(d.topic) : nullptr;
  w.key("topic").beginObject();
  w.key("status").string(topicStatusName(d.topic_status));
  w.key("value").stringOrNull(d.topic_status != TopicStatus::Absent, d.topic_text);
  w.key("code").stringOrNull(d.topic != kNoTopic, topicText(d.topic).view());
  w.key("name_zh").stringOrNull(topic != nullptr, topic ? topic->name_zh : "");
  w.key("name_en").stringOrNull(topic != nullptr, topic ? topic->name_en : "");
  w.endObject();

  const bool found = d.found.route != nullptr;
  w.key("route").beginObject();
  w.key("found").boolean(found);
  w.key("key").stringOrNull(found, routeKeyText(d.found.matched, d.found.topic).view());
  w.key("level").stringOrNull(found, levelName(d.found.level));
  w.key("topic_route").boolean(found && d.found.topic != kNoTopic);
  w.endObject();

  w.key("candidates").beginArray();
  for (const Candidate& c : d.candidates) {
    const Trunk& trunk = table.trunks()[c.trunk];
    w.beginObject();
    w.key("trunk").string(trunk.name);
    w.key("display_name").string(trunk.display_name);
    w.key("region").string(codeText(trunk.region));
    w.key("group").number(c.group + 1);
    w.key("weight").number(c.weight);
    w.key("usable").boolean(c.usable());
    w.key("skip").stringOrNull(!c.usable(), skipReasonName(c.skip));
    if (trunk.hours.alwaysOpen()) {
      w.key("hours").null();
    } else {
      w.key("hours").beginObject();
      if (trunk.hours.hasWeekly()) {
        w.key("weekly").strings(trunk.hours.weeklyRules());
      } else {
        w.key("weekly").null();  // open all week
      }
      w.key("closed").strings(trunk.hours.closedDates());
      w.key("open").strings(trunk.hours.openDates());
      w.key("open_now").boolean(trunk.openAt(input.now_unix));
      const auto change = trunk.hours.nextChange(input.now_unix, kHoursHorizon);
      w.key("next_change").stringOrNull(change.has_value(), change ? formatCst(*change) : "");
      w.endObject();
    }
    w.endObject();
  }
  w.endArray();

  const Candidate* first = nullptr;
  for (const Candidate& c : d.candidates) {
    if (c.usable()) {
      first = &c;
      break;
    }
  }
  w.key("result").beginObject();
  w.key("action").string(d.forward() ? "forward" : "reject");
  w.key("trunk").stringOrNull(first != nullptr, first ? table.trunks()[first->trunk].name : "");
  if (d.forward()) {
    w.key("status").null();
  } else {
    w.key("status").number(d.status);
  }
  w.key("reason").stringOrNull(!d.forward(), d.reason);
  w.key("retry_after").boolean(d.retry_after);
  w.key("stage").stringOrNull(!d.forward(), decisionStageName(d.rejected_at));
  w.endObject();

  w.endObject();
  return w.take();
}

}  // namespace sb::core
