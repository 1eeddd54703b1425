#include "aftersalesctl/cli.h"

#include <cctype>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "rpc/rpc.h"

namespace aftersales::ctl {

// --- connection ---------------------------------------------------------------

std::shared_ptr<grpc::Channel> Connection::Channel(const std::string& service) {
  auto it = channels_.find(service);
  if (it != channels_.end()) return it->second;
  grpc::ChannelArguments args;
  // A full page of orders with their histories can exceed gRPC's 4 MiB default.
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(address.at(service), credentials, args);
  channels_[service] = channel;
  return channel;
}

std::unique_ptr<grpc::ClientContext> Connection::NewContext() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  rpc::SetBearerToken(*ctx, token);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

// --- options ------------------------------------------------------------------

std::string CanonicalName(const std::string& raw) {
  std::string name(absl::StripPrefix(absl::StripPrefix(raw, "-"), "-"));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

Options::Options(const std::vector<std::string>& args, const std::map<std::string, bool>& spec) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || (a[1] != '-' && std::isdigit(a[1]))) {
      positional_.push_back(a);  // a plain argument, or a negative number
      continue;
    }
    const size_t eq = a.find('=');
    const std::string name = CanonicalName(a.substr(0, eq));
    auto it = spec.find(name);
    if (it == spec.end()) throw UsageError("unknown option --" + name);
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (it->second) {
      if (i + 1 >= args.size()) throw UsageError("--" + name + " needs a value");
      value = args[++i];
    } else {
      value = "true";
    }
    if (!it->second) {
      const std::string v = absl::AsciiStrToLower(value);
      if (v == "true" || v == "1" || v == "yes") {
        value = "true";
      } else if (v == "false" || v == "0" || v == "no") {
        value = "false";
      } else {
        throw UsageError("--" + name + " is a switch: true or false, not \"" + value + "\"");
      }
    }
    if (values_.count(name)) throw UsageError("--" + name + " given twice");
    values_[name] = value;
  }
}

std::string Options::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

bool Options::Switch(const std::string& name) const { return Get(name, "false") == "true"; }

int Options::Int(const std::string& name, int fallback, int min, int max) const {
  if (!Has(name)) return fallback;
  int v = 0;
  if (!absl::SimpleAtoi(Get(name), &v) || v < min || v > max) {
    throw UsageError(absl::StrCat("--", name, " must be a whole number in [", min, ", ", max,
                                  "], not \"", Get(name), "\""));
  }
  return v;
}

void Options::ExpectPositional(const std::vector<std::string>& names) const {
  if (positional_.size() < names.size()) {
    throw UsageError("missing " + names[positional_.size()]);
  }
  if (positional_.size() > names.size()) {
    throw UsageError("unexpected argument \"" + positional_[names.size()] + "\"");
  }
}

// --- enums --------------------------------------------------------------------

namespace {

// "ORDER_STATE_" for OrderState: value 0 is always <PREFIX>UNSPECIFIED.
std::string EnumPrefix(const google::protobuf::EnumDescriptor* d) {
  const auto* zero = d->FindValueByNumber(0);
  if (zero == nullptr || !absl::EndsWith(zero->name(), "UNSPECIFIED")) return "";
  return zero->name().substr(0, zero->name().size() - std::string("UNSPECIFIED").size());
}

}  // namespace

std::string EnumName(const google::protobuf::EnumDescriptor* d, int value) {
  if (value == 0) return "-";
  const auto* v = d->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  return std::string(absl::StripPrefix(v->name(), EnumPrefix(d)));
}

int ParseEnumValue(const google::protobuf::EnumDescriptor* d, const std::string& option,
                   const std::string& text) {
  std::string upper = absl::AsciiStrToUpper(text);
  std::replace(upper.begin(), upper.end(), '-', '_');
  const std::string prefix = EnumPrefix(d);
  for (const std::string& name : {prefix + upper, upper}) {
    const auto* v = d->FindValueByName(name);
    if (v != nullptr && v->number() != 0) return v->number();
  }
  std::vector<std::string> choices;
  for (int i = 0; i < d->value_count(); ++i) {
    if (d->value(i)->number() != 0) choices.push_back(EnumName(d, d->value(i)->number()));
  }
  throw UsageError(absl::StrCat("--", option, ": unknown value \"", text,
                                "\"; one of ", absl::StrJoin(choices, ", ")));
}

// --- times --------------------------------------------------------------------

std::string Time(const google::protobuf::Timestamp& ts, const absl::TimeZone& zone) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  std::string s = absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", rpc::FromProto(ts), zone);
  if (absl::EndsWith(s, "+00:00") && zone.name() == "UTC") {
    s = s.substr(0, s.size() - 6) + "Z";
  }
  return s;
}

std::string Duration(absl::Duration d) {
  if (d < absl::ZeroDuration()) return "-" + Duration(-d);
  int64_t s = absl::ToInt64Seconds(d);
  if (s == 0) return d == absl::ZeroDuration() ? "0s" : "<1s";
  std::string out;
  const int64_t days = s / 86400, hours = s / 3600 % 24, minutes = s / 60 % 60, seconds = s % 60;
  if (days) absl::StrAppend(&out, days, "d");
  if (hours) absl::StrAppend(&out, hours, "h");
  if (minutes) absl::StrAppend(&out, minutes, "m");
  if (seconds) absl::StrAppend(&out, seconds, "s");
  return out;
}

std::string Duration(const google::protobuf::Duration& d) { return Duration(rpc::FromProto(d)); }

absl::Time ParseTimeArg(const std::string& option, const std::string& text,
                        const absl::TimeZone& zone) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  absl::CivilDay day;
  if (absl::ParseCivilTime(text, &day)) return absl::FromCivil(day, zone);
  throw UsageError("--" + option + ": \"" + text +
                   "\" is neither RFC 3339 (2026-11-23T10:00:00+08:00) nor a date (2026-11-23)");
}

v1::CalendarDate ParseDateArg(const std::string& option, const std::string& text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    throw UsageError("--" + option + ": \"" + text + "\" is not a date like 2026-11-23");
  }
  v1::CalendarDate d;
  d.set_year(static_cast<int>(day.year()));
  d.set_month(day.month());
  d.set_day(day.day());
  return d;
}

v1::CalendarDate ParseMonthArg(const std::string& option, const std::string& text) {
  absl::CivilMonth month;
  if (!absl::ParseCivilTime(text, &month)) {
    throw UsageError("--" + option + ": \"" + text + "\" is not a month like 2026-11");
  }
  v1::CalendarDate d;
  d.set_year(static_cast<int>(month.year()));
  d.set_month(month.month());
  d.set_day(1);
  return d;
}

std::string Date(const v1::CalendarDate& d) {
  if (d.year() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

// --- output -------------------------------------------------------------------

size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    uint32_t cp = c;
    if (len > 1 && i + len <= s.size()) {
      cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += len;
    const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                      (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                      (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
                      (cp >= 0x20000 && cp <= 0x3FFFD);
    width += wide ? 2 : 1;
  }
  return width;
}

namespace {

std::string Cell(const std::string& s) {
  if (s.empty()) return "-";
  // A table row is one line: newlines and tabs in free text become spaces.
  std::string out = s;
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

void PrintRow(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
              std::ostream& out) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string cell = Cell(cells[i]);
    line += cell;
    if (i + 1 < cells.size()) line += std::string(widths[i] - DisplayWidth(cell) + 2, ' ');
  }
  out << line << "\n";
}

}  // namespace

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(Cell(row[i])));
    }
  }
  PrintRow(headers_, widths, out);
  for (auto row : rows_) {
    row.resize(headers_.size());
    PrintRow(row, widths, out);
  }
  if (rows_.empty()) out << "(none)\n";
}

void KeyValues::Print(std::ostream& out) const {
  size_t width = 0;
  for (const auto& [k, v] : rows_) width = std::max(width, DisplayWidth(k));
  for (const auto& [k, v] : rows_) {
    out << k << std::string(width - DisplayWidth(k) + 2, ' ') << Cell(v) << "\n";
  }
}

void PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    // Cannot happen for our own messages; say so rather than print half.
    throw std::runtime_error("JSON: " + status.ToString());
  }
  out << json << "\n";
}

std::string Number(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

std::string Yes(bool v) { return v ? "yes" : ""; }

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return absl::StrCat("CODE_", static_cast<int>(code));
  }
}

int CallFailed(const Connection& c, const std::string& service, const grpc::Status& status) {
  auto it = c.address.find(service);
  std::cerr << "aftersalesctl: " << service << " ("
            << (it == c.address.end() ? "?" : it->second)
            << "): " << StatusCodeName(status.error_code()) << ": " << status.error_message()
            << std::endl;
  return 1;
}

ListLimits LimitsOf(const Options& o) {
  ListLimits l;
  l.limit = o.Int("limit", 100, 1, 1000000);
  l.page_size = o.Int("page_size", std::min(l.limit, 500), 1, 500);
  return l;
}

void PrintMoreNote(const std::string& next_page_token, const ListLimits& limits,
                   std::ostream& out) {
  if (!next_page_token.empty()) {
    out << "(stopped at --limit=" << limits.limit << "; there are more)\n";
  }
}

void PrintClocks(const google::protobuf::RepeatedPtrField<v1::SlaClock>& clocks,
                 const absl::TimeZone& zone, std::ostream& out) {
  Table t({"KIND", "CALENDAR", "STARTED", "BUDGET", "DEADLINE", "STOPPED", "OUTCOME", "AT_RISK",
           "PAUSED", "LATENESS", "CAUSE"});
  for (const auto& c : clocks) {
    const bool paused = c.has_paused_since() || rpc::FromProto(c.paused()) > absl::ZeroDuration();
    std::string pause = paused ? Duration(c.paused()) : "";
    if (c.has_paused_since()) pause += " (now)";
    const bool late = rpc::FromProto(c.lateness()) > absl::ZeroDuration();
    t.Add({Enum(c.kind()), Enum(c.calendar()), Time(c.started_at(), zone), Duration(c.budget()),
           Time(c.deadline(), zone), Time(c.stopped_at(), zone), Enum(c.outcome()),
           Yes(c.at_risk()), pause, late ? Duration(c.lateness()) : "",
           c.breach_cause() ? Enum(c.breach_cause()) : ""});
  }
  t.Print(out);
}

}  // namespace aftersales::ctl
