// Call records (docs/call-records.md): the JSON encoder and the caller mask. No network.
#include <catch2/catch.hpp>

#include "records/call_record.hpp"

using namespace sb::records;

TEST_CASE("caller numbers are masked to their first 7 digits") {
  CHECK(maskCaller("13912345678") == "1391234****");
  CHECK(maskCaller("+8613912345678") == "1391234****");
  CHECK(maskCaller("008613912345678") == "1391234****");
  CHECK(maskCaller("051262001234") == "0512620*****");
  CHECK(maskCaller("1234") == "");  // no national number: nothing kept
  CHECK(maskCaller("") == "");
  CHECK(maskCaller("anonymous") == "");
  // Nothing but digits and '*' ever comes out, whatever came in.
  for (const char* raw : {"13912345678\"x", "1391234\x01", "\xff\xfe", "<sip:x>"}) {
    for (char c : maskCaller(raw)) CHECK(((c >= '0' && c <= '9') || c == '*'));
  }
}

TEST_CASE("the dialled number is cut to 32 characters") {
  CHECK(dialledText("12333320500") == "12333320500");
  CHECK(dialledText(std::string(40, '1')).size() == kMaxDialled);
}

TEST_CASE("an answered call encodes every field of schema version 1") {
  CallRecord r;
  r.call_id = "abc@10.0.0.1";
  r.source = "127.0.0.2";
  r.origin = "carrier-a";
  r.dialled = "12333320500";
  r.caller = maskCaller("13912345678");
  r.topic = "0202";
  r.region = 320506;
  r.routed = true;
  r.level = sb::core::Level::City;
  r.attempts = {{"js-suzhou", 503, AttemptResult::Failed},
                {"js-province", 200, AttemptResult::Answered}};
  r.t_invite = 1000;
  r.t_ring = 1100;
  r.t_answer = 2000;
  r.t_end = 9000;
  r.code = 200;
  r.result = Result::Answered;
  r.end_reason = EndReason::CalleeBye;
  CHECK(encode(r, "gw-1") ==
        "{\"v\":1,\"call_id\":\"abc@10.0.0.1\",\"instance\":\"gw-1\",\"source\":\"127.0.0.2\","
        "\"origin\":\"carrier-a\",\"dialled\":\"12333320500\",\"caller\":\"1391234****\","
        "\"region\":\"320506\",\"province\":\"320000\",\"city\":\"320500\",\"level\":\"city\","
        "\"topic\":\"0202\",\"attempts\":[{\"trunk\":\"js-suzhou\",\"code\":503,\"result\":"
        "\"failed\"},{\"trunk\":\"js-province\",\"code\":200,\"result\":\"answered\"}],"
        "\"trunk\":\"js-province\",\"t_invite\":1000,\"t_ring\":1100,\"t_answer\":2000,"
        "\"t_end\":9000,\"code\":200,\"result\":\"answered\",\"fail_reason\":\"\","
        "\"end_reason\":\"callee_bye\"}");
}

TEST_CASE("a rejected call has empty routing fields and names its reason") {
  CallRecord r;
  r.call_id = "x\"y\n";
  r.source = "192.0.2.1";
  r.dialled = "999";
  r.t_invite = r.t_end = 5;
  r.code = 403;
  r.result = Result::Failed;
  r.fail_reason = FailReason::Acl;
  r.end_reason = EndReason::Rejected;
  std::string json = encode(r, "i");
  CHECK(json.find("\"call_id\":\"x\\\"y\\n\"") != std::string::npos);
  CHECK(json.find("\"region\":\"\",\"province\":\"\",\"city\":\"\",\"level\":\"\"") !=
        std::string::npos);
  CHECK(json.find("\"attempts\":[],\"trunk\":\"\"") != std::string::npos);
  CHECK(json.find("\"result\":\"failed\",\"fail_reason\":\"acl\",\"end_reason\":\"rejected\"") !=
        std::string::npos);
  CHECK(json.find('\n') == std::string::npos);
}

TEST_CASE("a province-level key is its own city; fail_reason only for failed calls") {
  CallRecord r;
  r.region = 410000;
  r.routed = true;
  r.level = sb::core::Level::Province;
  r.result = Result::Abandoned;
  r.fail_reason = FailReason::Timeout;  // ignored: not failed
  r.end_reason = EndReason::CallerCancel;
  std::string json = encode(r, "i");
  CHECK(json.find("\"region\":\"410000\",\"province\":\"410000\",\"city\":\"410000\"") !=
        std::string::npos);
  CHECK(
      json.find("\"result\":\"abandoned\",\"fail_reason\":\"\",\"end_reason\":\"caller_cancel\"") !=
      std::string::npos);
}

TEST_CASE("every enum value has its documented name") {
  CHECK(failReasonName(FailReason::RateLimit) == "rate_limit");
  CHECK(failReasonName(FailReason::MaxForwards) == "max_forwards");
  CHECK(failReasonName(FailReason::Unavailable) == "unavailable");
  CHECK(failReasonName(FailReason::Shutdown) == "shutdown");
  CHECK(endReasonName(EndReason::RingTimeout) == "ring_timeout");
  CHECK(endReasonName(EndReason::MaxDuration) == "max_duration");
  CHECK(endReasonName(EndReason::TrunkFinal) == "trunk_final");
  CHECK(attemptResultName(AttemptResult::Cancelled) == "cancelled");
  CHECK(attemptResultName(AttemptResult::Timeout) == "timeout");
}
