#include "rpc/paging.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace aftersales::rpc {

absl::StatusOr<Page> ParsePage(const v1::PageRequest& request,
                               absl::string_view field) {
  Page page;
  if (request.page_size() < 0 ||
      request.page_size() > static_cast<int>(kMaxPageSize)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".page_size: must be in [0, ", kMaxPageSize, "]"));
  }
  page.size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (!request.page_token().empty() &&
      !absl::WebSafeBase64Unescape(request.page_token(), &page.after_key)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".page_token: not a token from a previous page"));
  }
  return page;
}

std::string NextPageToken(absl::string_view last_key) {
  if (last_key.empty()) return "";
  return absl::WebSafeBase64Escape(last_key);
}

}  // namespace aftersales::rpc
