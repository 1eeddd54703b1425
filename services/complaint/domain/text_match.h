#ifndef AFTERSALES_SERVICES_COMPLAINT_DOMAIN_TEXT_MATCH_H_
#define AFTERSALES_SERVICES_COMPLAINT_DOMAIN_TEXT_MATCH_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"

// Keyword matching for complaint texts in Chinese and English. Pure.
namespace aftersales::complaint::domain {

// The form texts and keywords are compared in: ASCII letters lowercased,
// full-width ASCII forms (U+FF01..U+FF5E, common in Chinese input: "１２３１５",
// "ＧＡＳ") folded to ASCII, the ideographic space (U+3000) to ' '. Other bytes,
// e.g. Chinese characters, stay as they are.
std::string NormalizeForMatch(absl::string_view text);

// True if `keyword` occurs in `text`, both normalized as above. A keyword that
// begins (ends) with an ASCII letter or digit matches only where the text does
// not continue with one on that side, so English words match whole: "sue"
// matches "I will sue you" but not "issue", "fire" not "fired", and "12315"
// matches "打12315投诉" but not "123156". Chinese keywords match as substrings.
// An empty or blank keyword never matches.
bool ContainsTerm(absl::string_view text, absl::string_view keyword);

// The keywords of `keywords` that occur in `text` (as written in the list,
// each once, in list order, at most `limit`).
std::vector<std::string> MatchedTerms(
    absl::string_view text, const google::protobuf::RepeatedPtrField<std::string>& keywords,
    size_t limit = 32);

// The key complaints on one appliance model share: trimmed, ASCII upper-case
// and full-width folded ("bcd-520w " and "BCD-520W" are one model).
std::string ModelKey(absl::string_view model);

}  // namespace aftersales::complaint::domain

#endif  // AFTERSALES_SERVICES_COMPLAINT_DOMAIN_TEXT_MATCH_H_
