#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::rpc {
namespace {

TEST_CASE("the validator names the first bad field") {
  CHECK(Validator().Id("order_id", "WO1", 64).status().ok());
  auto missing = Validator().Id("order_id", "", 64).Id("other", "", 8).status();
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.message() == "order_id: required");
  CHECK(Validator().Id("id", std::string(65, 'x'), 64).status().message() ==
        "id: at most 64 characters");
  CHECK(absl::StrContains(Validator().Id("id", "a b", 64).status().message(), "id:"));
  CHECK_FALSE(Validator().Id("id", std::string("a\0b", 3), 64).status().ok());
}

TEST_CASE("text fields count UTF-8 characters and refuse invalid bytes") {
  const std::string chinese = "冰箱不制冷";  // 5 characters, 15 bytes
  CHECK(Validator().Text("fault", chinese, 5, true).status().ok());
  CHECK_FALSE(Validator().Text("fault", chinese, 4, true).status().ok());
  CHECK(Validator().Text("note", "", 10, false).status().ok());
  CHECK(Validator().Text("note", "", 10, true).status().message() == "note: required");
  CHECK(Validator().Text("t", "line1\nline2\ttab", 100, true).status().ok());
  CHECK(Validator().Text("t", "\xff\xfe", 100, true).status().message() ==
        "t: must be valid UTF-8 text");
  CHECK_FALSE(Validator().Text("t", "\xe5\x86", 100, true).status().ok());  // cut
  CHECK_FALSE(Validator().Text("t", "bell\a", 100, true).status().ok());
}

TEST_CASE("enums and ranges") {
  CHECK(Validator().Enum("channel", 0, true).status().message() == "channel: required");
  CHECK(Validator().Enum("channel", 99, false).status().message() ==
        "channel: unknown value 99");
  CHECK(Validator().Range("lat", 31.2, -90, 90).status().ok());
  CHECK_FALSE(Validator().Range("lat", 91, -90, 90).status().ok());
  CHECK_FALSE(Validator().Range("lat", std::nan(""), -90, 90).status().ok());
  CHECK(Validator().Check("x", false, "bad").status().message() == "x: bad");
}

TEST_CASE("page tokens round-trip and bad pages are rejected") {
  v1::PageRequest req;
  auto page = ParsePage(req);
  REQUIRE(page.ok());
  CHECK(page->size == kDefaultPageSize);
  CHECK(page->after_key.empty());

  req.set_page_size(10);
  req.set_page_token(NextPageToken(std::string("key\0with-nul", 12)));
  page = ParsePage(req);
  REQUIRE(page.ok());
  CHECK(page->size == 10);
  CHECK(page->after_key == std::string("key\0with-nul", 12));
  CHECK(NextPageToken("").empty());

  req.set_page_size(501);
  CHECK(ParsePage(req).status().message() == "page.page_size: must be in [0, 500]");
  req.set_page_size(-1);
  CHECK_FALSE(ParsePage(req).ok());
  req.set_page_size(5);
  req.set_page_token("!!not base64!!");
  CHECK(absl::StrContains(ParsePage(req, "paging").status().message(),
                          "paging.page_token"));
}

TEST_CASE("status and time conversions") {
  CHECK(ToGrpc(absl::NotFoundError("x")).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(ToGrpc(absl::OkStatus()).ok());
  CHECK(FromGrpc(grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "y")).code() ==
        absl::StatusCode::kAlreadyExists);
  const absl::Time t = absl::FromUnixMillis(1'780'000'000'123);
  CHECK(FromProto(ToProto(t)) == t);
  const absl::Time before_epoch = absl::FromUnixMillis(-1500);
  auto ts = ToProto(before_epoch);
  CHECK(ts.nanos() >= 0);
  CHECK(FromProto(ts) == before_epoch);
  CHECK(FromProto(ToProto(absl::Minutes(90))) == absl::Minutes(90));
}

}  // namespace
}  // namespace aftersales::rpc
