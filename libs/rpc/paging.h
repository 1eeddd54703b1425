#ifndef AFTERSALES_LIBS_RPC_PAGING_H_
#define AFTERSALES_LIBS_RPC_PAGING_H_

#include "absl/strings/string_view.h"
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "aftersales/v1/common.pb.h"

namespace aftersales::rpc {

// A list request's page, decoded: how many records, and the last key of the
// previous page (the token is that key, opaque to clients).
struct Page {
  size_t size = 50;
  std::string after_key;
};

inline constexpr size_t kDefaultPageSize = 50;
inline constexpr size_t kMaxPageSize = 500;

// INVALID_ARGUMENT naming "<field>.page_size" / "<field>.page_token" when the
// size is negative or over the max, or the token is not one we issued.
absl::StatusOr<Page> ParsePage(const v1::PageRequest& request,
                               absl::string_view field = "page");

// The token that continues after `last_key`; "" when there is no more.
std::string NextPageToken(absl::string_view last_key);

}  // namespace aftersales::rpc

#endif  // AFTERSALES_LIBS_RPC_PAGING_H_
