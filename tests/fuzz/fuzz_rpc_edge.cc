// The request-validation primitives every handler composes (libs/rpc):
// Validator Id/Text/Enum/Range/Check on arbitrary bytes, and page tokens.
// Inline handler validation is a chain of these over decoded fields, so
// their contract is checked here on every input:
//   - Text() accepts only what protobuf itself accepts as a proto3 string
//     (well-formed UTF-8), never control characters, and counts characters;
//   - Id() accepts only printable ASCII without spaces, 1..max bytes;
//   - a page token is accepted iff it is one NextPageToken could issue, and
//     round-trips.
#include <cstdint>
#include <cstring>

#include "absl/strings/escaping.h"
#include "aftersales/v1/common.pb.h"
#include "fuzz_support.h"
#include "google/protobuf/stubs/common.h"
#include "rpc/paging.h"
#include "rpc/validate.h"

using namespace aftersales;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::AsText(data, size);
  const size_t max = size == 0 ? 0 : data[0] % 64;

  absl::Status id = rpc::Validator().Id("f", text, max).status();
  fuzz::CheckValidationError(id);
  if (id.ok()) {
    FUZZ_CHECK(!text.empty() && text.size() <= max);
    for (char c : text) FUZZ_CHECK(c > 0x20 && c < 0x7f);
  }

  for (bool required : {false, true}) {
    absl::Status t = rpc::Validator().Text("f", text, 4000, required).status();
    fuzz::CheckValidationError(t);
    if (t.ok() && !text.empty()) {
      FUZZ_CHECK(google::protobuf::internal::IsStructurallyValidUTF8(
          text.data(), static_cast<int>(text.size())));
      for (char c : text) {
        FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\r' ||
                   c == '\t');
        FUZZ_CHECK(c != 0x7f);
      }
    }
    if (required && text.empty()) FUZZ_CHECK(!t.ok());
  }
  // A character bound: at most `max` characters.
  absl::Status bounded = rpc::Validator().Text("f", text, max, false).status();
  if (bounded.ok()) FUZZ_CHECK(text.size() <= 4 * max || text.empty());

  if (size >= 8) {
    double d;
    std::memcpy(&d, data, sizeof d);
    absl::Status r = rpc::Validator().Range("f", d, -90, 90).status();
    if (r.ok()) FUZZ_CHECK(d >= -90 && d <= 90);
    int e;
    std::memcpy(&e, data, sizeof e);
    fuzz::CheckValidationError(rpc::Validator().Enum("f", e, e > 0 && e < 5).status());
  }

  v1::PageRequest page;
  page.set_page_token(std::string(text));
  page.set_page_size(size == 0 ? 0 : static_cast<int8_t>(data[0]) * 5);
  auto parsed = rpc::ParsePage(page, "page");
  fuzz::CheckValidationError(parsed.status());
  if (parsed.ok()) {
    FUZZ_CHECK(parsed->size >= 1 && parsed->size <= rpc::kMaxPageSize);
    if (!parsed->after_key.empty()) {
      // The key it decodes to continues to a token that decodes to it again.
      v1::PageRequest again;
      again.set_page_token(rpc::NextPageToken(parsed->after_key));
      auto back = rpc::ParsePage(again, "page");
      FUZZ_CHECK(back.ok() && back->after_key == parsed->after_key);
    }
  }
  // Any key (raw bytes of a RocksDB key) survives a token round trip.
  if (!text.empty()) {
    v1::PageRequest next;
    next.set_page_token(rpc::NextPageToken(text));
    auto back = rpc::ParsePage(next, "page");
    FUZZ_CHECK(back.ok() && back->after_key == text);
  }
  return 0;
}
