// geocode_dump: prints, as TSV, what Debian's libphonenumber offline geocoder (libgeocoding,
// compiled-in prefix data) says about every Chinese fixed-line area code and every 7-digit
// mobile prefix. Input for routing-tables/tools/generate.py; built and run by generate.sh.
//
//   geocode_dump areas    # 010, 020-029, 0300-0999: one row per candidate area code
//   geocode_dump mobiles  # 1300000-1999999: one row per 7-digit prefix
//
// Columns (areas):   area_code  example  valid  type  zh  en  zh_variants
// Columns (mobiles): prefix     example  valid  type  zh  en
// `example` is the full-length national number that was described; `valid` is
// PhoneNumberUtil::IsValidNumber for it; `type` its PhoneNumberType. zh/en are
// GetDescriptionForValidNumber in the locales zh and en; an empty description or the bare
// country name (中国 / China) means the data has no area for that prefix. For area codes,
// `zh_variants` lists further zh descriptions seen for other subscriber first digits (2-8),
// '|'-separated; empty when the whole area code has one description.
#include <phonenumbers/geocoding/phonenumber_offline_geocoder.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberOfflineGeocoder;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

const char* typeName(PhoneNumberUtil::PhoneNumberType type) {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return "fixed_line";
    case PhoneNumberUtil::MOBILE: return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE: return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE: return "premium_rate";
    case PhoneNumberUtil::SHARED_COST: return "shared_cost";
    case PhoneNumberUtil::VOIP: return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER: return "personal_number";
    case PhoneNumberUtil::PAGER: return "pager";
    case PhoneNumberUtil::UAN: return "uan";
    case PhoneNumberUtil::VOICEMAIL: return "voicemail";
    default: return "unknown";
  }
}

// A TSV field: tabs and newlines never occur in the data, but must not break a row if they did.
std::string field(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

struct Tool {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumberOfflineGeocoder geocoder;
  const icu::Locale zh{"zh"};
  const icu::Locale en{"en"};

  PhoneNumber number(const std::string& national) const {
    PhoneNumber n;
    n.set_country_code(86);
    n.set_national_number(std::stoull(national));
    return n;
  }

  void areas() {
    std::printf("area_code\texample\tvalid\ttype\tzh\ten\tzh_variants\n");
    std::vector<std::string> codes = {"10"};
    for (int i = 20; i <= 29; ++i) codes.push_back(std::to_string(i));
    for (int i = 300; i <= 999; ++i) codes.push_back(std::to_string(i));
    for (const std::string& code : codes) {
      // Subscriber numbers: 8 digits after a 2-digit code; 7 or 8 after a 3-digit code.
      // The first valid fixed-line candidate is the example; else the first candidate.
      std::vector<std::string> candidates;
      for (const char* first : {"6", "8", "2", "5", "3", "7", "4"}) {
        candidates.push_back(code + first + "2345678");  // 8-digit subscriber
        if (code.size() == 3) candidates.push_back(code + first + "234567");  // 7-digit
      }
      std::string chosen = candidates.front();
      for (const std::string& c : candidates) {
        const PhoneNumber n = number(c);
        if (util.IsValidNumber(n) && util.GetNumberType(n) == PhoneNumberUtil::FIXED_LINE) {
          chosen = c;
          break;
        }
      }
      const PhoneNumber n = number(chosen);
      const std::string zh_desc = geocoder.GetDescriptionForValidNumber(n, zh);
      std::set<std::string> variants;
      for (const std::string& c : candidates) {
        const std::string d = geocoder.GetDescriptionForValidNumber(number(c), zh);
        if (d != zh_desc) variants.insert(d);
      }
      std::string variant_text;
      for (const std::string& v : variants) {
        if (!variant_text.empty()) variant_text += "|";
        variant_text += v;
      }
      std::printf("0%s\t%s\t%d\t%s\t%s\t%s\t%s\n", code.c_str(), chosen.c_str(),
                  util.IsValidNumber(n) ? 1 : 0, typeName(util.GetNumberType(n)),
                  field(zh_desc).c_str(), field(geocoder.GetDescriptionForValidNumber(n, en)).c_str(),
                  field(variant_text).c_str());
    }
  }

  void mobiles() {
    std::printf("prefix\texample\tvalid\ttype\tzh\ten\n");
    for (int prefix = 1300000; prefix <= 1999999; ++prefix) {
      const std::string national = std::to_string(prefix) + "1234";  // 11 digits
      const PhoneNumber n = number(national);
      std::printf("%d\t%s\t%d\t%s\t%s\t%s\n", prefix, national.c_str(),
                  util.IsValidNumber(n) ? 1 : 0, typeName(util.GetNumberType(n)),
                  field(geocoder.GetDescriptionForValidNumber(n, zh)).c_str(),
                  field(geocoder.GetDescriptionForValidNumber(n, en)).c_str());
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 2 ? argv[1] : "";
  Tool tool;
  if (mode == "areas") {
    tool.areas();
  } else if (mode == "mobiles") {
    tool.mobiles();
  } else {
    std::fprintf(stderr, "usage: %s areas|mobiles\n", argv[0]);
    return 2;
  }
  return 0;
}
