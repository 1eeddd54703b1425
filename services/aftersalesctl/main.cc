// aftersalesctl — the operator CLI of the after-sales suite.
//
//   aftersalesctl [global flags] <group> <verb> [arguments and options]
//
// Global flags are absl flags and may stand anywhere on the line; the options
// of a subcommand are parsed by hand (aftersalesctl/cli.h Options). Output is
// an aligned table by default and one line of protobuf JSON with --json.
// Exit codes: 0 ok, 1 a call failed (gRPC code name and message on stderr),
// 2 a usage error (with the usage on stderr).
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "aftersalesctl/cli.h"

ABSL_FLAG(std::string, intake, "",
          "intake address; default $AFTERSALES_INTAKE_ADDR, else 127.0.0.1:7101");
ABSL_FLAG(std::string, dispatch, "",
          "dispatch address; default $AFTERSALES_DISPATCH_ADDR, else 127.0.0.1:7102");
ABSL_FLAG(std::string, parts, "",
          "parts address; default $AFTERSALES_PARTS_ADDR, else 127.0.0.1:7103");
ABSL_FLAG(std::string, complaint, "",
          "complaint address; default $AFTERSALES_COMPLAINT_ADDR, else 127.0.0.1:7104");
ABSL_FLAG(std::string, satisfaction, "",
          "satisfaction address; default $AFTERSALES_SATISFACTION_ADDR, else 127.0.0.1:7105");
ABSL_FLAG(std::string, token, "", "bearer token; default --token_file, else $AFTERSALES_TOKEN");
ABSL_FLAG(std::string, token_file, "",
          "file holding the plain token, or `name token` lines (var/secrets/tokens.plain) "
          "with --principal choosing the line");
ABSL_FLAG(std::string, principal, "",
          "principal whose line of --token_file to use (default file: "
          "$AFTERSALES_VAR_DIR/secrets/tokens.plain, else var/secrets/tokens.plain)");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA bundle: call the services over TLS");
ABSL_FLAG(bool, json, false, "print the response as one line of protobuf JSON");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "deadline of each call");
ABSL_FLAG(std::string, tz, "UTC", "time zone of printed times (IANA name), e.g. Asia/Shanghai");

namespace aftersales::ctl {
namespace {

// The services in the order of their default ports (base + 1 .. base + 5).
const char* const kServices[] = {"intake", "dispatch", "parts", "complaint", "satisfaction"};

const std::set<std::string>& GlobalFlags() {
  static const auto* names = new std::set<std::string>{
      "intake", "dispatch", "parts", "complaint", "satisfaction", "token",
      "token_file", "principal", "tls_ca", "json", "timeout", "tz"};
  return *names;
}

std::vector<Command>& Commands() {
  static auto* commands = [] {
    auto* c = new std::vector<Command>;
    AddOrderCommands(*c);
    AddDispatchCommands(*c);
    AddComplaintCommands(*c);
    AddSatisfactionCommands(*c);
    AddMaintenanceCommands(*c);
    AddAuditCommands(*c);
    return c;
  }();
  return *commands;
}

// `text` broken into lines of at most `width` columns at spaces; lines after
// the first start with `indent` spaces.
std::string Wrap(const std::string& text, size_t indent, size_t width = 96) {
  const size_t lead = std::min(text.find_first_not_of(' '), text.size());
  std::string out, line(lead, ' ');
  bool empty = true;  // no word on this line yet
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!empty && line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, line, "\n");
      line = std::string(indent, ' ');
      empty = true;
    }
    if (!empty) line += ' ';
    absl::StrAppend(&line, word);
    empty = false;
  }
  return out + line;
}

std::string CommandUsage(const Command& c) {
  return Wrap("  aftersalesctl " + c.group + " " + c.verb + (c.usage.empty() ? "" : " " + c.usage),
              8) +
         "\n" + Wrap("      " + c.summary, 6) + "\n";
}

// Every command, or those of one group.
std::string Usage(const std::string& group = "") {
  std::ostringstream out;
  out << "usage: aftersalesctl [global flags] <command> [arguments] [options]\n\ncommands:\n";
  for (const Command& c : Commands()) {
    if (group.empty() || c.group == group) out << CommandUsage(c);
  }
  if (!group.empty()) {
    out << "\n(aftersalesctl --help lists every command and global flag)\n";
    return out.str();
  }
  out << "\nglobal flags (anywhere on the line):\n"
         "  --intake --dispatch --parts --complaint --satisfaction=HOST:PORT\n"
         "      service addresses; default $AFTERSALES_<SERVICE>_ADDR, else\n"
         "      $AFTERSALES_LISTEN_HOST (127.0.0.1) : $AFTERSALES_<SERVICE>_GRPC_PORT, else\n"
         "      $AFTERSALES_GRPC_PORT_BASE (7100) + 1..5 as deploy/local/run.sh uses\n"
         "  --token=T | --token_file=F [--principal=NAME] | $AFTERSALES_TOKEN\n"
         "      bearer token; --principal alone reads var/secrets/tokens.plain\n"
         "  --tls_ca=PEM     call over TLS trusting this CA\n"
         "  --json           print the response as one line of protobuf JSON\n"
         "  --timeout=10s    deadline of each call\n"
         "  --tz=UTC         time zone of printed times (RFC 3339), e.g. Asia/Shanghai\n"
         "\nexit codes: 0 ok, 1 a call failed (gRPC code on stderr), 2 usage error\n";
  return out.str();
}

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? "" : v;
}

std::string DefaultAddress(const std::string& service, int index) {
  const std::string upper = absl::AsciiStrToUpper(service);
  if (std::string addr = Env("AFTERSALES_" + upper + "_ADDR"); !addr.empty()) return addr;
  std::string host = Env("AFTERSALES_LISTEN_HOST");
  if (host.empty()) host = "127.0.0.1";
  int port = 0;
  if (!absl::SimpleAtoi(Env("AFTERSALES_" + upper + "_GRPC_PORT"), &port) || port <= 0) {
    int base = 7100;
    if (!absl::SimpleAtoi(Env("AFTERSALES_GRPC_PORT_BASE"), &base)) base = 7100;
    port = base + index;
  }
  return absl::StrCat(host, ":", port);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

std::string ResolveToken() {
  if (std::string t = absl::GetFlag(FLAGS_token); !t.empty()) return t;
  std::string file = absl::GetFlag(FLAGS_token_file);
  const std::string principal = absl::GetFlag(FLAGS_principal);
  if (file.empty() && !principal.empty()) {
    const std::string var = Env("AFTERSALES_VAR_DIR");
    file = (var.empty() ? std::string("var") : var) + "/secrets/tokens.plain";
  }
  if (!file.empty()) {
    std::string text;
    if (!ReadFile(file, &text)) throw UsageError("--token_file: cannot read " + file);
    std::vector<std::vector<std::string>> lines;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (line.empty() || line[0] == '#') continue;
      lines.push_back(absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty()));
    }
    if (!principal.empty()) {
      for (const auto& fields : lines) {
        if (fields.size() >= 2 && fields[0] == principal) return fields[1];
      }
      throw UsageError("--principal: no line for \"" + principal + "\" in " + file);
    }
    if (lines.size() == 1 && lines[0].size() == 1) return lines[0][0];
    throw UsageError("--token_file: " + file +
                     " holds several tokens; choose one with --principal=NAME");
  }
  if (std::string t = Env("AFTERSALES_TOKEN"); !t.empty()) return t;
  throw UsageError("no token: give --token, --token_file or set AFTERSALES_TOKEN");
}

Connection Connect() {
  Connection c;
  int index = 1;
  for (const char* service : kServices) {
    std::string addr;
    if (service == std::string("intake")) addr = absl::GetFlag(FLAGS_intake);
    if (service == std::string("dispatch")) addr = absl::GetFlag(FLAGS_dispatch);
    if (service == std::string("parts")) addr = absl::GetFlag(FLAGS_parts);
    if (service == std::string("complaint")) addr = absl::GetFlag(FLAGS_complaint);
    if (service == std::string("satisfaction")) addr = absl::GetFlag(FLAGS_satisfaction);
    c.address[service] = addr.empty() ? DefaultAddress(service, index) : addr;
    ++index;
  }
  c.token = ResolveToken();
  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
    grpc::SslCredentialsOptions options;
    if (!ReadFile(ca, &options.pem_root_certs)) throw UsageError("--tls_ca: cannot read " + ca);
    c.credentials = grpc::SslCredentials(options);
  } else {
    c.credentials = grpc::InsecureChannelCredentials();
  }
  c.timeout = absl::GetFlag(FLAGS_timeout);
  if (c.timeout <= absl::ZeroDuration()) throw UsageError("--timeout must be positive");
  const std::string tz = absl::GetFlag(FLAGS_tz);
  if (!absl::LoadTimeZone(tz, &c.zone)) throw UsageError("--tz: unknown time zone \"" + tz + "\"");
  c.json = absl::GetFlag(FLAGS_json);
  return c;
}

bool LooksLikeOption(const std::string& a) {
  return a.size() >= 2 && a[0] == '-' && !(a[1] != '-' && std::isdigit(a[1]));
}

// Takes the global flags out of `args` (anywhere before a "--") and applies
// them; returns what is left for the command. Sets `help` for -h/--help.
std::vector<std::string> TakeGlobalFlags(const std::vector<std::string>& args, bool* help) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      rest.insert(rest.end(), args.begin() + i, args.end());
      break;
    }
    if (!LooksLikeOption(a)) {
      rest.push_back(a);
      continue;
    }
    const size_t eq = a.find('=');
    std::string name = CanonicalName(a.substr(0, eq));
    if (name == "help" || name == "h") {
      *help = true;
      continue;
    }
    std::string value;
    bool has_value = eq != std::string::npos;
    if (has_value) value = a.substr(eq + 1);
    if (name == "nojson" && !has_value) {
      name = "json";
      value = "false";
      has_value = true;
    }
    if (!GlobalFlags().count(name)) {
      rest.push_back(a);  // the command's own option
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) throw UsageError("--" + name + ": not registered");
    if (!has_value) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw UsageError("--" + name + " needs a value");
      }
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) throw UsageError("--" + name + ": " + error);
  }
  return rest;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const Command* command = nullptr;
  std::string known_group;  // a command group given without a valid verb
  try {
    bool help = false;
    std::vector<std::string> rest = TakeGlobalFlags(args, &help);
    if (help || (!rest.empty() && rest[0] == "help")) {
      std::cout << Usage();
      return 0;
    }
    if (rest.empty()) throw UsageError("no command");
    if (LooksLikeOption(rest[0])) throw UsageError("unknown flag " + rest[0]);
    const std::string group = rest[0];
    bool group_known = false;
    for (const Command& c : Commands()) group_known = group_known || c.group == group;
    if (!group_known) throw UsageError("unknown command \"" + group + "\"");
    known_group = group;
    const std::string verb = rest.size() > 1 ? rest[1] : "";
    for (const Command& c : Commands()) {
      if (c.group == group && c.verb == verb) command = &c;
    }
    if (command == nullptr) {
      std::string verbs;
      for (const Command& c : Commands()) {
        if (c.group == group) absl::StrAppend(&verbs, verbs.empty() ? "" : ", ", c.verb);
      }
      throw UsageError(verb.empty() ? group + ": missing subcommand (" + verbs + ")"
                                    : group + ": unknown subcommand \"" + verb + "\" (" + verbs +
                                          ")");
    }
    const Options options(std::vector<std::string>(rest.begin() + 2, rest.end()),
                          command->options);
    Connection connection = Connect();
    return command->run(connection, options);
  } catch (const UsageError& e) {
    std::cerr << "aftersalesctl: " << e.what() << "\n";
    if (command != nullptr) {
      std::cerr << "usage:\n" << CommandUsage(*command)
                << "(aftersalesctl --help lists every command and global flag)\n";
    } else {
      std::cerr << Usage(known_group);
    }
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aftersalesctl: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace
}  // namespace aftersales::ctl

int main(int argc, char** argv) { return aftersales::ctl::Main(argc, argv); }
