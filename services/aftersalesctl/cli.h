// aftersalesctl: the operator CLI's shared pieces — the connection to the
// services, the hand-parsed options of a subcommand, and the output helpers
// (aligned tables, key/value lists, times, durations, enum names, JSON).
#ifndef AFTERSALES_SERVICES_AFTERSALESCTL_CLI_H_
#define AFTERSALES_SERVICES_AFTERSALESCTL_CLI_H_

#include <algorithm>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "aftersales/v1/common.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/generated_enum_reflection.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"

namespace aftersales::ctl {

// A mistake on the command line: printed with the command's usage, exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where the services are and how to call them (global flags, resolved).
struct Connection {
  std::map<std::string, std::string> address;  // "intake" -> "127.0.0.1:7101"
  std::string token;
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  absl::Duration timeout = absl::Seconds(10);
  absl::TimeZone zone = absl::UTCTimeZone();
  bool json = false;

  // One channel per service address, created on first use.
  std::shared_ptr<grpc::Channel> Channel(const std::string& service);
  // A client context with the bearer token and the deadline.
  std::unique_ptr<grpc::ClientContext> NewContext() const;

 private:
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

// The options of one subcommand: positional arguments and --name[=value].
// `spec` names every accepted option: true = takes a value, false = a switch.
// Dashes and underscores in names are the same (--at-risk == --at_risk).
class Options {
 public:
  Options(const std::vector<std::string>& args, const std::map<std::string, bool>& spec);

  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  bool Switch(const std::string& name) const;
  // --limit style integer in [min, max]; `fallback` when absent.
  int Int(const std::string& name, int fallback, int min, int max) const;
  // Exactly `n` positional arguments, named for the error message.
  void ExpectPositional(const std::vector<std::string>& names) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::string> values_;
};

// Canonical option/flag name: leading dashes removed, '-' -> '_'.
std::string CanonicalName(const std::string& raw);

// --- enums ------------------------------------------------------------------

// "ORDER_STATE_CREATED" -> "CREATED"; UNSPECIFIED (0) -> "-".
std::string EnumName(const google::protobuf::EnumDescriptor* d, int value);
template <typename E>
std::string Enum(E value) {
  return EnumName(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}
// Parses "created", "CREATED" or "ORDER_STATE_CREATED"; UsageError naming
// `option` and the choices otherwise. UNSPECIFIED is refused.
int ParseEnumValue(const google::protobuf::EnumDescriptor* d, const std::string& option,
                   const std::string& text);
template <typename E>
E ParseEnum(const std::string& option, const std::string& text) {
  return static_cast<E>(
      ParseEnumValue(google::protobuf::GetEnumDescriptor<E>(), option, text));
}

// --- times ------------------------------------------------------------------

// RFC 3339 to the second in `zone` ("2026-11-23T02:00:00Z" in UTC,
// "2026-11-23T10:00:00+08:00" in Asia/Shanghai); "-" when unset.
std::string Time(const google::protobuf::Timestamp& ts, const absl::TimeZone& zone);
// "45s", "15m", "1h30m", "2d3h"; "0s" for zero; a leading "-" when negative.
std::string Duration(absl::Duration d);
std::string Duration(const google::protobuf::Duration& d);
// RFC 3339 ("2026-11-23T10:00:00+08:00") or a date ("2026-11-23", midnight in `zone`).
absl::Time ParseTimeArg(const std::string& option, const std::string& text,
                        const absl::TimeZone& zone);
// "2026-11-23" -> CalendarDate.
v1::CalendarDate ParseDateArg(const std::string& option, const std::string& text);
// "2026-11" -> CalendarDate with day 1.
v1::CalendarDate ParseMonthArg(const std::string& option, const std::string& text);
std::string Date(const v1::CalendarDate& d);

// --- output -----------------------------------------------------------------

// Terminal columns a UTF-8 string takes (CJK and full-width forms take two).
size_t DisplayWidth(const std::string& s);

// Columns aligned on display width, two spaces apart; empty cells print "-";
// a table without rows prints its header and "(none)".
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t size() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "label  value" lines with the values aligned; empty values print "-".
class KeyValues {
 public:
  void Add(std::string key, std::string value) {
    rows_.emplace_back(std::move(key), std::move(value));
  }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

// One line of protobuf JSON (google::protobuf::util::MessageToJsonString).
void PrintJson(const google::protobuf::Message& message, std::ostream& out);

// "12.5" with `digits` decimals.
std::string Number(double v, int digits);
std::string Yes(bool v);  // "yes" or ""

// Prints a failed call as "aftersalesctl: <service> (<addr>): CODE: message"
// on stderr; returns 1.
int CallFailed(const Connection& c, const std::string& service, const grpc::Status& status);
std::string StatusCodeName(grpc::StatusCode code);

// --- lists --------------------------------------------------------------------

// How many items a list command fetches in all, and per request.
struct ListLimits {
  int limit = 100;
  int page_size = 100;
};
ListLimits LimitsOf(const Options& o);

// Calls `call(request, &page)` page by page, appending `items(&page)` to
// `items(all)`, until the service has no next page or `limits.limit` items are
// in. `all->next_page_token` is the token of what is left ("" = nothing).
template <typename Req, typename Resp, typename Call, typename Items>
grpc::Status FetchPages(Req request, const ListLimits& limits, Call call, Items items,
                        Resp* all) {
  while (true) {
    const int want = limits.limit - items(all)->size();
    request.mutable_page()->set_page_size(std::min(want, limits.page_size));
    Resp page;
    grpc::Status s = call(request, &page);
    if (!s.ok()) return s;
    for (auto& item : *items(&page)) {
      if (items(all)->size() >= limits.limit) break;
      *items(all)->Add() = std::move(item);
    }
    all->set_next_page_token(page.next_page_token());
    if (page.next_page_token().empty() || items(all)->size() >= limits.limit) break;
    request.mutable_page()->set_page_token(page.next_page_token());
  }
  return grpc::Status::OK;
}

// The line printed under a list that stopped at --limit with more left.
void PrintMoreNote(const std::string& next_page_token, const ListLimits& limits,
                   std::ostream& out);

// Shared table of SLA clocks (orders and complaints).
void PrintClocks(const google::protobuf::RepeatedPtrField<v1::SlaClock>& clocks,
                 const absl::TimeZone& zone, std::ostream& out);

// --- commands -----------------------------------------------------------------

// One subcommand: "orders list" -> group "orders", verb "list".
struct Command {
  std::string group, verb;
  std::string usage;    // arguments and options, one line
  std::string summary;  // what it does
  std::map<std::string, bool> options;
  std::function<int(Connection&, const Options&)> run;
};

void AddOrderCommands(std::vector<Command>& out);
void AddDispatchCommands(std::vector<Command>& out);
void AddComplaintCommands(std::vector<Command>& out);
void AddSatisfactionCommands(std::vector<Command>& out);
void AddMaintenanceCommands(std::vector<Command>& out);  // backup <service> NAME
void AddAuditCommands(std::vector<Command>& out);  // audit verify|head <service>

}  // namespace aftersales::ctl

#endif  // AFTERSALES_SERVICES_AFTERSALESCTL_CLI_H_
