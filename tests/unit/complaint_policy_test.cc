// The complaint policy document: the shipped file holds SPEC §5's defaults,
// and every bad field is rejected naming its path.
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "complaint/domain/policy.h"
#include "complaint/domain/text_match.h"
#include "rpc/rpc.h"

namespace aftersales::complaint::domain {
namespace {

std::string ShippedText() {
  std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) + "/deploy/policies/complaint.textproto");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

v1::ComplaintPolicy Shipped() {
  auto p = ParseComplaintPolicy(ShippedText());
  if (!p.ok()) FAIL("shipped policy: " << p.status());
  return *p;
}

bool Has(const google::protobuf::RepeatedPtrField<std::string>& list, const std::string& word) {
  for (const auto& w : list) {
    if (w == word) return true;
  }
  return false;
}

TEST_CASE("policy: the shipped file holds the SPEC grade table and ladder") {
  const v1::ComplaintPolicy p = Shipped();
  CHECK(p.ref().name() == "complaint");
  struct Row {
    v1::ComplaintGrade grade;
    v1::OwnerLevel owner;
    absl::Duration ack, resolve;
  };
  const Row rows[] = {
      {v1::COMPLAINT_GRADE_G1_GENERAL, v1::OWNER_LEVEL_CUSTOMER_SERVICE, absl::Hours(24),
       absl::Hours(48)},
      {v1::COMPLAINT_GRADE_G2_SERIOUS, v1::OWNER_LEVEL_SERVICE_MANAGER, absl::Hours(4),
       absl::Hours(120)},
      {v1::COMPLAINT_GRADE_G3_MAJOR, v1::OWNER_LEVEL_SPECIAL_TEAM, absl::Hours(24),
       absl::Hours(72)},
      {v1::COMPLAINT_GRADE_G4_CRITICAL, v1::OWNER_LEVEL_EMERGENCY_GROUP, absl::Hours(1),
       absl::Hours(48)},
  };
  for (const Row& row : rows) {
    const v1::GradeTarget& t = TargetFor(p, row.grade);
    INFO(v1::ComplaintGrade_Name(row.grade));
    CHECK(t.grade() == row.grade);
    CHECK(t.owner() == row.owner);
    CHECK(rpc::FromProto(t.acknowledge()) == row.ack);
    CHECK(rpc::FromProto(t.resolve()) == row.resolve);
  }
  CHECK(NextOwnerLevel(p, v1::OWNER_LEVEL_CUSTOMER_SERVICE) == v1::OWNER_LEVEL_SERVICE_MANAGER);
  CHECK(NextOwnerLevel(p, v1::OWNER_LEVEL_SERVICE_MANAGER) == v1::OWNER_LEVEL_SPECIAL_TEAM);
  CHECK(NextOwnerLevel(p, v1::OWNER_LEVEL_SPECIAL_TEAM) == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(NextOwnerLevel(p, v1::OWNER_LEVEL_EMERGENCY_GROUP) == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(p.same_model_threshold() == 5);
  CHECK(rpc::FromProto(p.same_model_window()) == absl::Hours(72));
  CHECK(p.repeat_complainant_threshold() == 2);
  CHECK(rpc::FromProto(p.repeat_complainant_window()) == absl::Hours(24 * 30));
  CHECK(p.vip_step());
}

TEST_CASE("policy: every SPEC rule is in the shipped file with its effect") {
  const v1::ComplaintPolicy p = Shipped();
  struct Want {
    v1::GradingRuleKind kind;
    v1::RuleEffect effect;
    v1::ComplaintGrade floor;
  };
  const Want wants[] = {
      {v1::GRADING_RULE_KIND_SAFETY_KEYWORDS, v1::RULE_EFFECT_FLOOR, v1::COMPLAINT_GRADE_G4_CRITICAL},
      {v1::GRADING_RULE_KIND_PUBLIC_PRESSURE_KEYWORDS, v1::RULE_EFFECT_FLOOR,
       v1::COMPLAINT_GRADE_G3_MAJOR},
      {v1::GRADING_RULE_KIND_SAME_MODEL_CLUSTER, v1::RULE_EFFECT_FLOOR, v1::COMPLAINT_GRADE_G3_MAJOR},
      {v1::GRADING_RULE_KIND_ORDER_SLA_BREACHED, v1::RULE_EFFECT_FLOOR,
       v1::COMPLAINT_GRADE_G2_SERIOUS},
      {v1::GRADING_RULE_KIND_ORDER_REWORK, v1::RULE_EFFECT_FLOOR, v1::COMPLAINT_GRADE_G2_SERIOUS},
      {v1::GRADING_RULE_KIND_REPEAT_COMPLAINANT, v1::RULE_EFFECT_STEP,
       v1::COMPLAINT_GRADE_UNSPECIFIED},
      {v1::GRADING_RULE_KIND_STRONG_EMOTION, v1::RULE_EFFECT_STEP, v1::COMPLAINT_GRADE_UNSPECIFIED},
      {v1::GRADING_RULE_KIND_VIP_CUSTOMER, v1::RULE_EFFECT_STEP, v1::COMPLAINT_GRADE_UNSPECIFIED},
  };
  for (const Want& w : wants) {
    INFO(v1::GradingRuleKind_Name(w.kind));
    int found = 0;
    for (const auto& r : p.rules()) {
      if (r.kind() != w.kind || r.disabled()) continue;
      ++found;
      CHECK(r.effect() == w.effect);
      CHECK(r.floor() == w.floor);
    }
    CHECK(found == 1);
  }
  bool fee = false;
  for (const auto& r : p.rules()) {
    if (r.kind() == v1::GRADING_RULE_KIND_CATEGORY && r.categories_size() == 1 &&
        r.categories(0) == v1::COMPLAINT_CATEGORY_FEE_DISPUTE) {
      fee = r.effect() == v1::RULE_EFFECT_FLOOR && r.floor() == v1::COMPLAINT_GRADE_G2_SERIOUS;
    }
  }
  CHECK(fee);
  // SPEC §5's example words, in Chinese and English.
  for (const char* w : {"煤气味", "冒烟", "起火", "触电", "漏电", "gas leak", "smoke", "electric shock"}) {
    CHECK(Has(p.safety_keywords(), w));
  }
  for (const char* w : {"媒体", "曝光", "12315", "起诉", "律师", "media", "lawyer", "sue"}) {
    CHECK(Has(p.public_pressure_keywords(), w));
  }
  for (const char* w : {"愤怒", "失望", "无奈", "furious", "angry"}) {
    CHECK(Has(p.strong_emotion_keywords(), w));
  }
}

TEST_CASE("policy: a syntax error names line and column") {
  auto p = ParseComplaintPolicy("ref { name: \"complaint\" version: \"1\" }\ngrades { grade: G9 }");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(p.status().message(), "policy: line 2 column"));
}

TEST_CASE("policy: every bad field is rejected naming its path") {
  struct Bad {
    const char* field;
    std::function<void(v1::ComplaintPolicy&)> spoil;
  };
  const std::vector<Bad> bads = {
      {"ref.name", [](auto& p) { p.mutable_ref()->clear_name(); }},
      {"ref.version", [](auto& p) { p.mutable_ref()->set_version("has space"); }},
      {"grades", [](auto& p) { p.mutable_grades()->RemoveLast(); }},
      {"grades[1].grade", [](auto& p) { p.mutable_grades(1)->set_grade(v1::COMPLAINT_GRADE_G1_GENERAL); }},
      {"grades[0].owner", [](auto& p) { p.mutable_grades(0)->clear_owner(); }},
      {"grades[2].acknowledge", [](auto& p) { p.mutable_grades(2)->clear_acknowledge(); }},
      {"grades[3].resolve", [](auto& p) { p.mutable_grades(3)->mutable_resolve()->set_seconds(10); }},
      {"grades[1].resolve",
       [](auto& p) { p.mutable_grades(1)->mutable_resolve()->set_seconds(31 * 86400); }},
      {"safety_keywords[0]", [](auto& p) { p.set_safety_keywords(0, "   "); }},
      {"public_pressure_keywords[1]", [](auto& p) { p.set_public_pressure_keywords(1, ""); }},
      {"strong_emotion_keywords[2]",
       [](auto& p) { p.set_strong_emotion_keywords(2, std::string(65, 'x')); }},
      {"same_model_threshold", [](auto& p) { p.set_same_model_threshold(0); }},
      {"same_model_window", [](auto& p) { p.mutable_same_model_window()->set_seconds(60); }},
      {"repeat_complainant_threshold", [](auto& p) { p.set_repeat_complainant_threshold(101); }},
      {"repeat_complainant_window", [](auto& p) { p.clear_repeat_complainant_window(); }},
      {"rules", [](auto& p) { p.clear_rules(); }},
      {"rules[0].rule_id", [](auto& p) { p.mutable_rules(0)->clear_rule_id(); }},
      {"rules[1].rule_id", [](auto& p) { p.mutable_rules(1)->set_rule_id(p.rules(0).rule_id()); }},
      {"rules[0].kind", [](auto& p) { p.mutable_rules(0)->clear_kind(); }},
      {"rules[0].effect", [](auto& p) { p.mutable_rules(0)->clear_effect(); }},
      {"rules[0].floor", [](auto& p) { p.mutable_rules(0)->clear_floor(); }},
      {"rules[0].description", [](auto& p) { p.mutable_rules(0)->clear_description(); }},
      {"rules[1].categories", [](auto& p) { p.mutable_rules(1)->clear_categories(); }},
      {"rules[0].categories",
       [](auto& p) { p.mutable_rules(0)->add_categories(v1::COMPLAINT_CATEGORY_OTHER); }},
      {"rules[3].channels", [](auto& p) { p.mutable_rules(3)->clear_channels(); }},
      {"rules[3].channels[0]",
       [](auto& p) { p.mutable_rules(3)->set_channels(0, v1::COMPLAINT_CHANNEL_UNSPECIFIED); }},
      {"escalation_ladder", [](auto& p) { p.clear_escalation_ladder(); }},
      {"escalation_ladder[1]",
       [](auto& p) { p.set_escalation_ladder(1, v1::OWNER_LEVEL_CUSTOMER_SERVICE); }},
      {"grades[3].owner", [](auto& p) { p.mutable_escalation_ladder()->RemoveLast(); }},
      {"category_keywords[0].category", [](auto& p) { p.mutable_category_keywords(0)->clear_category(); }},
      {"category_keywords[1].keywords", [](auto& p) { p.mutable_category_keywords(1)->clear_keywords(); }},
      {"at_risk_fraction", [](auto& p) { p.set_at_risk_fraction(1.0); }},
  };
  const v1::ComplaintPolicy good = Shipped();
  REQUIRE(ValidateComplaintPolicy(good).ok());
  REQUIRE(good.rules(3).kind() == v1::GRADING_RULE_KIND_CHANNEL);
  REQUIRE(good.rules(1).kind() == v1::GRADING_RULE_KIND_CATEGORY);
  for (const Bad& b : bads) {
    v1::ComplaintPolicy p = good;
    b.spoil(p);
    const absl::Status s = ValidateComplaintPolicy(p);
    INFO(b.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(b.field) + ":"));
  }
}

TEST_CASE("text matching: case, width, word boundaries and Chinese substrings") {
  CHECK(ContainsTerm("Gas leak in the kitchen!", "gas leak"));
  CHECK(ContainsTerm("GAS LEAK", "Gas Leak"));
  CHECK(ContainsTerm("ＧＡＳ ＬＥＡＫ", "gas leak"));  // full-width letters
  CHECK(ContainsTerm("打１２３１５", "12315"));
  CHECK(ContainsTerm("燃气gas漏了", "gas"));
  CHECK_FALSE(ContainsTerm("please check the issue", "sue"));
  CHECK(ContainsTerm("I will sue.", "sue"));
  CHECK_FALSE(ContainsTerm("he fired up the oven", "fire"));
  CHECK_FALSE(ContainsTerm("call 123156", "12315"));
  CHECK(ContainsTerm("厨房里有煤气味", "煤气味"));
  CHECK_FALSE(ContainsTerm("anything", ""));
  CHECK_FALSE(ContainsTerm("anything", "   "));
  CHECK(ContainsTerm("no-show again", "no-show"));
  CHECK(NormalizeForMatch("Ａｂ　Ｃ") == "ab c");
  CHECK(ModelKey(" bcd-520w ") == "BCD-520W");
  CHECK(ModelKey("ＢＣＤ－５２０Ｗ") == "BCD-520W");
  google::protobuf::RepeatedPtrField<std::string> list;
  for (const char* w : {"smoke", "fire", "smoke", "sparks"}) *list.Add() = w;
  CHECK(MatchedTerms("Fire! Smoke and fire", list) == std::vector<std::string>{"smoke", "fire"});
}

}  // namespace
}  // namespace aftersales::complaint::domain
