#include "server/policy_holder.h"

#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace aftersales::server {
namespace {

class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) {
      error_ = absl::StrCat("policy: line ", line + 1, " column ", column + 1, ": ", message);
    }
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

absl::Status ParseTextPolicy(absl::string_view text, google::protobuf::Message* policy) {
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (parser.ParseFromString(std::string(text), policy)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      errors.error().empty()
          ? absl::StrCat("policy: not a valid text-format ", policy->GetDescriptor()->name())
          : errors.error());
}

}  // namespace aftersales::server
