#include "complaint/domain/text_match.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace aftersales::complaint::domain {
namespace {

bool IsWordChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// Search of a normalized keyword in a normalized text, with word boundaries
// on ASCII-alphanumeric keyword edges.
bool ContainsNormalized(absl::string_view text, absl::string_view keyword) {
  if (absl::StripAsciiWhitespace(keyword).empty()) return false;
  const bool bound_front = IsWordChar(keyword.front());
  const bool bound_back = IsWordChar(keyword.back());
  for (size_t pos = text.find(keyword); pos != absl::string_view::npos;
       pos = text.find(keyword, pos + 1)) {
    const size_t end = pos + keyword.size();
    if (bound_front && pos > 0 && IsWordChar(text[pos - 1])) continue;
    if (bound_back && end < text.size() && IsWordChar(text[end])) continue;
    return true;
  }
  return false;
}

}  // namespace

std::string NormalizeForMatch(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out.push_back(absl::ascii_tolower(c));
      continue;
    }
    if (i + 2 < text.size()) {
      const unsigned char c1 = static_cast<unsigned char>(text[i + 1]);
      const unsigned char c2 = static_cast<unsigned char>(text[i + 2]);
      // U+FF01..U+FF3F = EF BC 81..BF; U+FF40..U+FF5E = EF BD 80..9E.
      if (c == 0xEF && ((c1 == 0xBC && c2 >= 0x81 && c2 <= 0xBF) ||
                        (c1 == 0xBD && c2 >= 0x80 && c2 <= 0x9E))) {
        const unsigned code = 0xFF00u + ((c1 == 0xBC ? 0u : 0x40u) + (c2 - 0x80u));
        out.push_back(absl::ascii_tolower(static_cast<unsigned char>(code - 0xFEE0u)));
        i += 2;
        continue;
      }
      if (c == 0xE3 && c1 == 0x80 && c2 == 0x80) {  // U+3000 ideographic space
        out.push_back(' ');
        i += 2;
        continue;
      }
    }
    out.push_back(static_cast<char>(c));
  }
  return out;
}

bool ContainsTerm(absl::string_view text, absl::string_view keyword) {
  return ContainsNormalized(NormalizeForMatch(text), NormalizeForMatch(keyword));
}

std::vector<std::string> MatchedTerms(
    absl::string_view text, const google::protobuf::RepeatedPtrField<std::string>& keywords,
    size_t limit) {
  const std::string normalized = NormalizeForMatch(text);
  std::vector<std::string> out;
  for (const std::string& keyword : keywords) {
    if (out.size() >= limit) break;
    if (std::find(out.begin(), out.end(), keyword) != out.end()) continue;
    if (ContainsNormalized(normalized, NormalizeForMatch(keyword))) out.push_back(keyword);
  }
  return out;
}

std::string ModelKey(absl::string_view model) {
  return absl::AsciiStrToUpper(absl::StripAsciiWhitespace(NormalizeForMatch(model)));
}

}  // namespace aftersales::complaint::domain
