#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "catch2/catch.hpp"
#include "intake/domain/policy.h"
#include "intake/domain/priority.h"

namespace aftersales::intake::domain {
namespace {

using R = v1::PriorityReason;
constexpr R kSafety = v1::PRIORITY_REASON_SAFETY_KEYWORD;
constexpr R kCode = v1::PRIORITY_REASON_SAFETY_FAULT_CODE;
constexpr R kCore = v1::PRIORITY_REASON_CORE_FUNCTION_HARM;
constexpr R kKey = v1::PRIORITY_REASON_KEY_FUNCTION_LOST;
constexpr R kVip = v1::PRIORITY_REASON_VIP_CUSTOMER;
constexpr R kRework = v1::PRIORITY_REASON_REWORK;
constexpr R kRight = v1::PRIORITY_REASON_PRIORITY_SERVICE_RIGHT;
constexpr R kDefault = v1::PRIORITY_REASON_DEFAULT;

constexpr v1::Priority E = v1::PRIORITY_EMERGENCY;
constexpr v1::Priority U = v1::PRIORITY_URGENT;
constexpr v1::Priority N = v1::PRIORITY_NORMAL;

// The priority rules operators actually run: the shipped policy.
const v1::IntakePolicy& Shipped() {
  static const v1::IntakePolicy policy = [] {
    auto p = LoadIntakePolicyFile(std::string(AFTERSALES_SOURCE_DIR) +
                                  "/deploy/policies/intake.textproto");
    if (!p.ok()) FAIL("shipped policy: " << p.status());
    return *p;
  }();
  return policy;
}

std::vector<R> Reasons(const v1::PriorityDecision& d) {
  std::vector<R> out;
  for (int r : d.reasons()) out.push_back(static_cast<R>(r));
  return out;
}

std::vector<std::string> Terms(const v1::PriorityDecision& d) {
  return std::vector<std::string>(d.matched_terms().begin(), d.matched_terms().end());
}

std::string Describe(const std::vector<R>& reasons) {
  std::vector<std::string> names;
  for (R r : reasons) names.push_back(v1::PriorityReason_Name(r));
  return absl::StrJoin(names, ",");
}

struct Case {
  const char* text;
  const char* category;
  v1::Priority priority;
  std::vector<R> reasons;
  std::vector<std::string> terms;
  int month = 7;
  const char* code = "";
};

TEST_CASE("realistic fault texts in Chinese and English") {
  const std::vector<Case> cases = {
      // Safety keywords -> EMERGENCY.
      {"厨房里有很大的燃气味，热水器打不着", "WATER_HEATER", E, {kSafety}, {"燃气"}},
      {"There is a strong gas smell near the stove", "HOB", E, {kSafety}, {"gas"}},
      {"Smells of GAS in the kitchen!", "HOB", E, {kSafety}, {"gas"}},
      {"洗衣机插头冒烟了", "WASHER", E, {kSafety}, {"冒烟"}},
      {"Microwave has sparks and a burning smell inside", "MICROWAVE", E, {kSafety},
       {"sparks", "burning"}},
      {"空调外机起火", "AC", E, {kSafety}, {"起火"}},
      {"TV caught fire while watching", "TV", E, {kSafety}, {"fire"}},
      {"插座有焦味，碰到机器外壳触电", "DISHWASHER", E, {kSafety}, {"焦味", "触电"}},
      {"Got an electric shock from the washing machine door", "WASHER", E, {kSafety},
       {"electric shock"}},
      {"热水器漏电，一开就跳闸", "WATER_HEATER", E, {kSafety}, {"漏电", "跳闸"}},
      {"洗碗机漏水，厨房地板全湿了", "DISHWASHER", E, {kSafety}, {"漏水"}},
      {"Washing machine is leaking and the bathroom is flooded", "WASHER", E, {kSafety},
       {"leaking", "flooded"}},
      // Core function with harm.
      {"冰箱不制冷", "FRIDGE", E, {kCore, kKey}, {"不制冷"}},
      {"冷藏室不冷了，菜都坏了", "FRIDGE", E, {kCore}, {"不冷"}},
      {"Chest freezer stopped cooling, food is thawing", "FREEZER", E, {kCore},
       {"thawing", "stopped cooling"}},
      {"Fridge not cooling since yesterday", "fridge", E, {kCore, kKey}, {"not cooling"}},
      // Key function lost -> URGENT.
      {"洗衣机不能用", "WASHER", U, {kKey}, {"不能用"}},
      {"空调不制冷", "AC", U, {kKey}, {"不制冷"}},  // not a core-function appliance
      {"Dryer won't start at all", "DRYER", U, {kKey}, {"won't start"}},
      {"Oven is not working, display stays dark", "OVEN", U, {kKey}, {"not working"}},
      {"电视开不了机", "TV", U, {kKey}, {"开不了机"}},
      // Everything else -> NORMAL.
      {"洗衣机脱水时噪音很大", "WASHER", N, {kDefault}, {}},
      {"Fridge makes a loud humming noise at night", "FRIDGE", N, {kDefault}, {}},
      {"Door gasket is torn on the fridge", "FRIDGE", N, {kDefault}, {}},  // "gas" is a word
      {"Firmware update failed, remote shows an error", "AC", N, {kDefault}, {}},
      {"想咨询一下滤芯多久换一次", "WATER_PURIFIER", N, {kDefault}, {}},
      // Several rules: every one is listed.
      {"冰箱不制冷还漏水", "FRIDGE", E, {kSafety, kCore, kKey}, {"漏水", "不制冷"}},
  };
  for (const Case& c : cases) {
    PriorityInput in;
    in.fault_text = c.text;
    in.fault_code = c.code;
    in.appliance_category = c.category;
    in.tier = v1::CUSTOMER_TIER_STANDARD;
    in.local_month = c.month;
    v1::PriorityDecision d = DecidePriority(in, Shipped().priority(), Shipped().ref());
    INFO(c.text << " -> " << v1::Priority_Name(d.priority()) << " ["
                << Describe(Reasons(d)) << "] terms [" << absl::StrJoin(Terms(d), ",") << "]");
    CHECK(d.priority() == c.priority);
    CHECK(Reasons(d) == c.reasons);
    CHECK(Terms(d) == c.terms);
  }
}

TEST_CASE("water heater without hot water: EMERGENCY in winter only") {
  struct MonthCase {
    int month;
    v1::Priority priority;
    std::vector<R> reasons;
  };
  for (const MonthCase& c : std::vector<MonthCase>{{1, E, {kCore, kKey}},
                                                   {2, E, {kCore, kKey}},
                                                   {3, E, {kCore, kKey}},
                                                   {4, U, {kKey}},
                                                   {7, U, {kKey}},
                                                   {10, U, {kKey}},
                                                   {11, E, {kCore, kKey}},
                                                   {12, E, {kCore, kKey}}}) {
    PriorityInput in;
    in.fault_text = "电热水器不出热水";
    in.appliance_category = "WATER_HEATER";
    in.local_month = c.month;
    v1::PriorityDecision d = DecidePriority(in, Shipped().priority(), Shipped().ref());
    INFO("month " << c.month << " -> " << Describe(Reasons(d)));
    CHECK(d.priority() == c.priority);
    CHECK(Reasons(d) == c.reasons);
    CHECK(Terms(d) == std::vector<std::string>{"不出热水"});
  }
  PriorityInput en;
  en.fault_text = "No hot water this morning";
  en.appliance_category = "WATER_HEATER";
  en.local_month = 1;
  CHECK(DecidePriority(en, Shipped().priority(), Shipped().ref()).priority() == E);
  en.local_month = 7;
  CHECK(DecidePriority(en, Shipped().priority(), Shipped().ref()).priority() == U);
}

TEST_CASE("safety fault codes, VIP and rework") {
  struct InputCase {
    const char* name;
    const char* text;
    const char* code;
    v1::CustomerTier tier;
    bool rework;
    v1::Priority priority;
    std::vector<R> reasons;
    std::vector<std::string> terms;
  };
  const auto S = v1::CUSTOMER_TIER_STANDARD;
  const auto V = v1::CUSTOMER_TIER_VIP;
  const std::vector<InputCase> cases = {
      {"gas code", "设备自动报修", "E-GAS-02", S, false, E, {kCode}, {"E-GAS"}},
      {"code case-insensitive, trimmed", "auto report", " e-leak7 ", S, false, E, {kCode},
       {"E-LEAK"}},
      {"ordinary code", "auto report", "E4", S, false, N, {kDefault}, {}},
      {"VIP plain fault", "洗衣机噪音大", "", V, false, U, {kVip}, {}},
      {"rework plain fault", "Dishwasher leaves spots on glasses", "", S, true, U, {kRework}, {}},
      {"VIP rework", "噪音大", "", V, true, U, {kVip, kRework}, {}},
      {"VIP and gas", "煤气味很重", "", V, false, E, {kSafety, kVip}, {"煤气"}},
      {"all of it", "有烟 smoke, 不能用", "SAFE-07", V, true, E,
       {kSafety, kCode, kKey, kVip, kRework}, {"smoke", "SAFE-", "不能用"}},
  };
  for (const InputCase& c : cases) {
    PriorityInput in;
    in.fault_text = c.text;
    in.fault_code = c.code;
    in.appliance_category = "WASHER";
    in.tier = c.tier;
    in.is_rework = c.rework;
    in.local_month = 6;
    v1::PriorityDecision d = DecidePriority(in, Shipped().priority(), Shipped().ref());
    INFO(c.name << " -> " << v1::Priority_Name(d.priority()) << " [" << Describe(Reasons(d))
                << "]");
    CHECK(d.priority() == c.priority);
    CHECK(Reasons(d) == c.reasons);
    CHECK(Terms(d) == c.terms);
  }
}

TEST_CASE("a priority right raises one level, capped at EMERGENCY") {
  struct RightCase {
    const char* text;
    v1::Priority priority;
    std::vector<R> reasons;
    bool uses_right;
  };
  for (const RightCase& c : std::vector<RightCase>{
           {"洗衣机噪音大", U, {kRight}, true},
           {"洗衣机不能用", E, {kKey, kRight}, true},
           {"washer smells of burning", E, {kSafety}, false},  // already EMERGENCY: kept
       }) {
    PriorityInput in;
    in.fault_text = c.text;
    in.appliance_category = "WASHER";
    in.local_month = 5;
    in.has_priority_right = true;
    v1::PriorityDecision d = DecidePriority(in, Shipped().priority(), Shipped().ref());
    INFO(c.text << " -> " << Describe(Reasons(d)));
    CHECK(d.priority() == c.priority);
    CHECK(Reasons(d) == c.reasons);
    CHECK(UsesPriorityRight(d) == c.uses_right);
  }
}

TEST_CASE("the decision records policy, actor and no previous priority") {
  PriorityInput in;
  in.fault_text = "冰箱不制冷 fridge not cooling";
  in.appliance_category = "FRIDGE";
  in.local_month = 8;
  v1::PriorityDecision d = DecidePriority(in, Shipped().priority(), Shipped().ref());
  CHECK(d.priority() == E);
  CHECK(d.previous() == v1::PRIORITY_UNSPECIFIED);
  CHECK(d.policy().name() == "intake");
  CHECK(d.policy().version() == "2026-11-22.1");
  CHECK(d.decided_by().principal_id() == "system");
  CHECK(d.decided_by().role() == v1::ROLE_SYSTEM);
  CHECK(Reasons(d) == std::vector<R>{kCore, kKey});
  CHECK(Terms(d) == std::vector<std::string>{"不制冷", "not cooling"});
}

TEST_CASE("policy switches and rule priorities are honoured") {
  v1::PriorityPolicy p = Shipped().priority();
  p.set_vip_is_urgent(false);
  p.set_rework_is_urgent(false);
  PriorityInput in;
  in.fault_text = "noise";
  in.tier = v1::CUSTOMER_TIER_VIP;
  in.is_rework = true;
  v1::PriorityDecision d = DecidePriority(in, p, Shipped().ref());
  CHECK(d.priority() == N);
  CHECK(Reasons(d) == std::vector<R>{kDefault});

  // A core-function rule may assign URGENT instead of EMERGENCY.
  v1::PriorityPolicy q;
  auto* rule = q.add_core_function_rules();
  rule->set_appliance_category("AC");
  rule->add_keywords("not cooling");
  rule->set_priority(U);
  in = PriorityInput{};
  in.fault_text = "AC NOT COOLING";
  in.appliance_category = "ac";
  d = DecidePriority(in, q, Shipped().ref());
  CHECK(d.priority() == U);
  CHECK(Reasons(d) == std::vector<R>{kCore});
}

TEST_CASE("term matching: case-insensitive, whole English words, Chinese anywhere") {
  CHECK(ContainsTerm("GAS leak", "gas"));
  CHECK(ContainsTerm("smell of gas.", "Gas"));
  CHECK(ContainsTerm("燃气gas味", "gas"));
  CHECK_FALSE(ContainsTerm("door gasket", "gas"));
  CHECK_FALSE(ContainsTerm("biogas", "gas"));
  CHECK(ContainsTerm("won't start", "won't start"));
  CHECK(ContainsTerm("热水器燃气泄漏", "燃气"));
  CHECK(ContainsTerm("ABC漏水DEF", "漏水"));
  CHECK_FALSE(ContainsTerm("", "gas"));
  CHECK_FALSE(ContainsTerm("gas", ""));
  CHECK(RaisePriority(N, 1) == U);
  CHECK(RaisePriority(U, 2) == E);
  CHECK(RaisePriority(E, 1) == E);
  CHECK(RaisePriority(v1::PRIORITY_UNSPECIFIED, 1) == U);
}

}  // namespace
}  // namespace aftersales::intake::domain
