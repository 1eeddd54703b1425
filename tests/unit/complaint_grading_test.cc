// Grading of realistic complaint texts (SPEC §5), table-driven against the
// shipped policy: each case asserts the grade and every fired rule with its
// evidence, in application order.
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "catch2/catch.hpp"
#include "complaint/domain/grading.h"
#include "complaint/domain/policy.h"
#include "rpc/rpc.h"

namespace aftersales::complaint::domain {
namespace {

constexpr v1::ComplaintGrade G1 = v1::COMPLAINT_GRADE_G1_GENERAL;
constexpr v1::ComplaintGrade G2 = v1::COMPLAINT_GRADE_G2_SERIOUS;
constexpr v1::ComplaintGrade G3 = v1::COMPLAINT_GRADE_G3_MAJOR;
constexpr v1::ComplaintGrade G4 = v1::COMPLAINT_GRADE_G4_CRITICAL;

const absl::Time kNow = absl::FromUnixSeconds(1795400000);  // 2026-11-22

const v1::ComplaintPolicy& Shipped() {
  static const v1::ComplaintPolicy policy = [] {
    std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) + "/deploy/policies/complaint.textproto");
    std::stringstream text;
    text << in.rdbuf();
    auto p = ParseComplaintPolicy(text.str());
    if (!p.ok()) FAIL("shipped policy: " << p.status());
    return *p;
  }();
  return policy;
}

struct OrderFacts {
  std::vector<v1::SlaClockKind> breached;
  bool rework = false;
  v1::CustomerTier tier = v1::CUSTOMER_TIER_STANDARD;
};

using Rule = std::pair<std::string, std::vector<std::string>>;  // id, evidence

struct Case {
  std::string name;
  std::string text;
  v1::ComplaintGrade grade;
  std::vector<Rule> rules;
  v1::ComplaintCategory category = v1::COMPLAINT_CATEGORY_UNSPECIFIED;  // as filed
  v1::ComplaintCategory graded_category = v1::COMPLAINT_CATEGORY_UNSPECIFIED;  // expected; UNSPECIFIED = not checked
  v1::CustomerTier tier = v1::CUSTOMER_TIER_UNSPECIFIED;
  v1::ComplaintChannel channel = v1::COMPLAINT_CHANNEL_APP;
  std::optional<OrderFacts> order;
  std::vector<double> customer_days_ago;  // earlier complaints by the customer
  std::string model;
  std::vector<double> model_hours_ago;  // earlier complaints on the model
};

std::vector<EarlierComplaint> History(const std::string& prefix, const std::vector<double>& ages,
                                      absl::Duration unit) {
  std::vector<EarlierComplaint> out;
  for (size_t i = 0; i < ages.size(); ++i) {
    out.push_back({prefix + std::to_string(i + 1), kNow - ages[i] * unit});
  }
  return out;
}

v1::GradingResult GradeCase(const Case& c, v1::LinkedOrderContext* order_out = nullptr) {
  v1::LinkedOrderContext order;
  GradeInput in;
  in.text = c.text;
  in.category = c.category;
  in.channel = c.channel;
  if (c.order) {
    order.set_order_id("WO-1");
    order.set_known(true);
    for (auto k : c.order->breached) order.add_breached_clocks(k);
    order.set_sla_breached(!c.order->breached.empty());
    order.set_is_rework(c.order->rework);
    order.set_customer_tier(c.order->tier);
    in.order = &order;
  }
  in.tier = c.tier != v1::CUSTOMER_TIER_UNSPECIFIED ? c.tier
            : c.order                               ? c.order->tier
                                                    : v1::CUSTOMER_TIER_STANDARD;
  in.appliance_model = c.model;
  in.customer_history = History("CP-C", c.customer_days_ago, absl::Hours(24));
  in.same_model_history = History("CP-M", c.model_hours_ago, absl::Hours(1));
  if (order_out) *order_out = order;
  return Grade(in, Shipped(), kNow);
}

const Case& ByName(const std::string& name);

std::string Describe(const v1::GradingResult& r) {
  std::vector<std::string> parts;
  for (const auto& f : r.rules()) {
    parts.push_back(f.rule_id() + "[" + absl::StrJoin(f.evidence(), "|") + "]->" +
                    v1::ComplaintGrade_Name(f.grade_after()));
  }
  return v1::ComplaintGrade_Name(r.grade()) + " " + absl::StrJoin(parts, " ");
}

const std::vector<v1::SlaClockKind> kArrival = {v1::SLA_CLOCK_KIND_ARRIVAL};

// clang-format off
const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
    // ---- Safety -> G4 -------------------------------------------------------
    {.name = "gas smell after a stove repair (Chinese)",
     .text = "师傅走后家里一直有煤气味，我们全家都不敢做饭", .grade = G4,
     .rules = {{"safety_keywords", {"煤气味"}},
               {"safety_category", {"category=SAFETY", "inferred from: 煤气味"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_SAFETY},
    {.name = "can still smell gas (English)",
     .text = "After the repair I can still smell gas in the kitchen even with the stove off",
     .grade = G4, .rules = {{"safety_keywords", {"smell gas"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_OTHER},
    {.name = "gas leak, and furious about it",
     .text = "Gas leak after the installer left, I am furious", .grade = G4,
     .rules = {{"safety_keywords", {"gas leak"}},
               {"safety_category", {"category=SAFETY", "inferred from: gas leak"}},
               {"strong_emotion", {"furious"}}}},
    {.name = "smoke from a water heater panel",
     .text = "The water heater made a popping noise and smoke came out of the control panel",
     .grade = G4,
     .rules = {{"safety_keywords", {"smoke"}},
               {"safety_category", {"category=SAFETY", "inferred from: smoke"}}}},
    {.name = "electric leakage, shock in the shower",
     .text = "热水器漏电，我老婆洗澡的时候被电了一下", .grade = G4,
     .rules = {{"safety_keywords", {"漏电", "被电"}},
               {"safety_category", {"category=SAFETY", "inferred from: 漏电"}}}},
    {.name = "plug burnt and smoking",
     .text = "洗衣机插头烧焦了，插座还在冒烟", .grade = G4,
     .rules = {{"safety_keywords", {"冒烟", "烧焦"}},
               {"safety_category", {"category=SAFETY", "inferred from: 冒烟"}}}},
    {.name = "child got an electric shock",
     .text = "My son got an electric shock from the fridge door handle", .grade = G4,
     .rules = {{"safety_keywords", {"electric shock"}},
               {"safety_category", {"category=SAFETY", "inferred from: electric shock"}}}},
    {.name = "hand cut by the engineer",
     .text = "师傅操作不当把我的手划伤了，缝了三针", .grade = G4,
     .rules = {{"safety_keywords", {"划伤"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_OTHER},
    {.name = "filed as SAFETY without any safety word",
     .text = "The oven door glass shattered while we were baking", .grade = G4,
     .rules = {{"safety_category", {"category=SAFETY"}}},
     .category = v1::COMPLAINT_CATEGORY_SAFETY},
    {.name = "microwave caught fire, shouted in capitals",
     .text = "THE MICROWAVE CAUGHT FIRE TWO DAYS AFTER YOUR ENGINEER REPLACED THE BOARD",
     .grade = G4,
     .rules = {{"safety_keywords", {"caught fire", "fire"}},
               {"safety_category", {"category=SAFETY", "inferred from: fire"}}}},
    {.name = "safety plus every step stays capped at G4",
     .text = "煤气泄漏了三次！我已经受够了", .grade = G4,
     .rules = {{"safety_keywords", {"煤气泄漏"}},
               {"repeat_complainant", {"CP-C1", "CP-C2"}},
               {"strong_emotion", {"受够了"}},
               {"vip_customer", {"customer_tier=VIP"}}},
     .tier = v1::CUSTOMER_TIER_VIP, .customer_days_ago = {10, 2}},

    // ---- Media / regulator / legal -> G3 --------------------------------------
    {.name = "12315 and the media",
     .text = "I will call 12315 and the media if this is not fixed by Friday", .grade = G3,
     .rules = {{"public_pressure_keywords", {"12315", "media"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_TECHNICAL},
    {.name = "threat to expose through the media",
     .text = "再不给解决我就找媒体曝光你们", .grade = G3,
     .rules = {{"public_pressure_keywords", {"媒体", "曝光"}}}},
    {.name = "already complained to 12315",
     .text = "已经打了12315投诉，你们看着办", .grade = G3,
     .rules = {{"public_pressure_keywords", {"12315"}}}},
    {.name = "full-width digits still count",
     .text = "不处理我就打１２３１５", .grade = G3,
     .rules = {{"public_pressure_keywords", {"12315"}}}},
    {.name = "lawyer and lawsuit",
     .text = "我已经咨询了律师，准备起诉你们公司", .grade = G3,
     .rules = {{"public_pressure_keywords", {"起诉", "律师"}}}},
    {.name = "sue over a refund, also a fee dispute",
     .text = "If you don't refund me I'm going to sue", .grade = G3,
     .rules = {{"public_pressure_keywords", {"sue"}},
               {"fee_dispute", {"category=FEE_DISPUTE", "inferred from: refund"}}}},
    {.name = "social media and reporters",
     .text = "I'll post this on social media and tell every reporter I know", .grade = G3,
     .rules = {{"public_pressure_keywords", {"media", "reporter", "social media"}}}},
    {.name = "posted on Weibo",
     .text = "微博上已经有很多人在骂你们了，我也要发", .grade = G3,
     .rules = {{"public_pressure_keywords", {"微博"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_ATTITUDE},
    {.name = "forwarded by the regulator",
     .text = "消费者投诉转办：用户反映空调维修不及时", .grade = G3,
     .rules = {{"public_channel", {"channel=REGULATOR"}}},
     .channel = v1::COMPLAINT_CHANNEL_REGULATOR},
    {.name = "issue is not sue, court not courteous",
     .text = "Please look into the issue code E4; the engineer was courteous", .grade = G1,
     .rules = {}},

    // ---- Mass impact on one model -> G3 ---------------------------------------
    {.name = "fifth complaint on one model within 3 days",
     .text = "冰箱不制冷，刚买两个月", .grade = G3,
     .rules = {{"same_model_cluster",
                {"model=BCD-520W", "complaints=5 within 3d", "CP-M1", "CP-M2", "CP-M3", "CP-M4"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_PRODUCT_QUALITY,
     .model = "BCD-520W", .model_hours_ago = {70, 48, 20, 1}},
    {.name = "fourth complaint on the model is not yet mass impact",
     .text = "冰箱不制冷，刚买两个月", .grade = G1, .rules = {},
     .model = "BCD-520W", .model_hours_ago = {48, 20, 1}},
    {.name = "complaints older than 3 days do not count",
     .text = "冰箱不制冷，刚买两个月", .grade = G1, .rules = {},
     .model = "BCD-520W", .model_hours_ago = {73, 48, 20, 1}},

    // ---- Linked order: SLA breach, rework -> G2 ------------------------------
    {.name = "plain late arrival is G1",
     .text = "The engineer arrived late", .grade = G1, .rules = {},
     .graded_category = v1::COMPLAINT_CATEGORY_RESPONSE_DELAY, .order = OrderFacts{}},
    {.name = "late arrival on an order that breached its SLA is G2",
     .text = "The engineer arrived late", .grade = G2,
     .rules = {{"order_sla_breached", {"order=WO-1", "ARRIVAL"}}},
     .order = OrderFacts{.breached = kArrival}},
    {.name = "two hours late, no breach (Chinese)",
     .text = "师傅迟到了两个小时", .grade = G1, .rules = {},
     .graded_category = v1::COMPLAINT_CATEGORY_RESPONSE_DELAY, .order = OrderFacts{}},
    {.name = "two hours late, dispatch and arrival breached (Chinese)",
     .text = "师傅迟到了两个小时", .grade = G2,
     .rules = {{"order_sla_breached", {"order=WO-1", "DISPATCH", "ARRIVAL"}}},
     .order = OrderFacts{.breached = {v1::SLA_CLOCK_KIND_DISPATCH, v1::SLA_CLOCK_KIND_ARRIVAL}}},
    {.name = "broke again after repair: a rework",
     .text = "上次修好的洗衣机又坏了，还是同样的问题", .grade = G2,
     .rules = {{"order_rework", {"order=WO-1"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_TECHNICAL, .order = OrderFacts{.rework = true}},
    {.name = "second visit, dryer still not working",
     .text = "Second visit and the dryer is still not working", .grade = G2,
     .rules = {{"order_rework", {"order=WO-1"}}},
     .order = OrderFacts{.rework = true}},

    // ---- Fee dispute -> G2 ------------------------------------------------------
    {.name = "arbitrary charges (Chinese)",
     .text = "师傅乱收费，换个配件收了我800块", .grade = G2,
     .rules = {{"fee_dispute", {"category=FEE_DISPUTE", "inferred from: 乱收费, 收费"}}}},
    {.name = "overcharged for a part",
     .text = "I was overcharged 300 yuan for a part that sells for 50 online", .grade = G2,
     .rules = {{"fee_dispute", {"category=FEE_DISPUTE", "inferred from: overcharged"}}}},
    {.name = "filed as a fee dispute",
     .text = "The amount on the receipt does not match what the engineer told me", .grade = G2,
     .rules = {{"fee_dispute", {"category=FEE_DISPUTE"}}},
     .category = v1::COMPLAINT_CATEGORY_FEE_DISPUTE},

    // ---- Repeat complainant -> +1 ---------------------------------------------
    {.name = "third complaint in 30 days steps up",
     .text = "Engineer late again, third time this month", .grade = G2,
     .rules = {{"repeat_complainant", {"CP-C1", "CP-C2"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_RESPONSE_DELAY, .customer_days_ago = {20, 3}},
    {.name = "second complaint does not",
     .text = "Engineer late again", .grade = G1, .rules = {},
     .customer_days_ago = {3}},
    {.name = "a complaint 31 days ago is outside the window",
     .text = "Engineer late again", .grade = G1, .rules = {},
     .customer_days_ago = {31, 3}},
    {.name = "repeat complainant on a fee dispute",
     .text = "又多收了我上门费，这是第三次投诉了", .grade = G3,
     .rules = {{"fee_dispute", {"category=FEE_DISPUTE", "inferred from: 多收, 上门费"}},
               {"repeat_complainant", {"CP-C1", "CP-C2"}}},
     .customer_days_ago = {25, 9}},

    // ---- Strong emotion -> +1 ---------------------------------------------------
    {.name = "disappointed after three days of waiting",
     .text = "我真的很失望，等了三天都没人来", .grade = G2,
     .rules = {{"strong_emotion", {"失望"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_RESPONSE_DELAY},
    {.name = "angry and unacceptable",
     .text = "This is absolutely unacceptable, I am so angry", .grade = G2,
     .rules = {{"strong_emotion", {"angry", "unacceptable"}}}},
    {.name = "helpless and cheated",
     .text = "很无奈，感觉被骗子坑了", .grade = G2,
     .rules = {{"strong_emotion", {"无奈", "骗子"}}}},

    // ---- VIP -> +1 ----------------------------------------------------------------
    {.name = "VIP customer asks for a reschedule",
     .text = "Please reschedule my appointment to the weekend", .grade = G2,
     .rules = {{"vip_customer", {"customer_tier=VIP"}}},
     .tier = v1::CUSTOMER_TIER_VIP},
    {.name = "VIP known from the order",
     .text = "安装师傅没有带鞋套，把地板弄脏了", .grade = G2,
     .rules = {{"vip_customer", {"customer_tier=VIP"}}},
     .order = OrderFacts{.tier = v1::CUSTOMER_TIER_VIP}},

    // ---- Combinations and plain complaints --------------------------------------
    {.name = "late, rude, furious VIP on a breached order reaches G4",
     .text = "师傅迟到半天，态度还很差，我非常愤怒", .grade = G4,
     .rules = {{"order_sla_breached", {"order=WO-1", "ARRIVAL"}},
               {"strong_emotion", {"愤怒"}},
               {"vip_customer", {"customer_tier=VIP"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_ATTITUDE,
     .order = OrderFacts{.breached = kArrival, .tier = v1::CUSTOMER_TIER_VIP}},
    {.name = "rework with an overcharge is still G2",
     .text = "返修还要再收一次上门费", .grade = G2,
     .rules = {{"order_rework", {"order=WO-1"}},
               {"fee_dispute", {"category=FEE_DISPUTE", "inferred from: 上门费"}}},
     .order = OrderFacts{.rework = true}},
    {.name = "dirty floor is a plain G1",
     .text = "安装师傅没有带鞋套，把地板弄脏了", .grade = G1, .rules = {},
     .graded_category = v1::COMPLAINT_CATEGORY_OTHER},
    {.name = "no updates on a part is G1",
     .text = "Could someone tell me when the part will arrive? No updates for a week",
     .grade = G1, .rules = {}, .graded_category = v1::COMPLAINT_CATEGORY_PROCESS_OPACITY},
    {.name = "fired up the oven is not fire",
     .text = "The technician fired up the oven to test it; only the door seal is loose",
     .grade = G1, .rules = {}},
    {.name = "rude engineer",
     .text = "The engineer was rude and shouted at my mother", .grade = G1, .rules = {},
     .graded_category = v1::COMPLAINT_CATEGORY_ATTITUDE},
    {.name = "photos of my flat on Douyin",
     .text = "The engineer posted photos of my flat on Douyin without asking, a privacy breach",
     .grade = G3, .rules = {{"public_pressure_keywords", {"douyin"}}},
     .graded_category = v1::COMPLAINT_CATEGORY_PRIVACY},
  };
  return cases;
}
// clang-format on

const Case& ByName(const std::string& name) {
  for (const Case& c : Cases()) {
    if (c.name == name) return c;
  }
  FAIL("no case " << name);
  return Cases().front();
}

TEST_CASE("grading: at least 40 realistic complaints in Chinese and English") {
  REQUIRE(Cases().size() >= 40);
}

TEST_CASE("grading: each complaint gets its grade and exactly the rules that fired") {
  for (const Case& c : Cases()) {
    const v1::GradingResult r = GradeCase(c);
    INFO(c.name << ": " << Describe(r));
    CHECK(r.grade() == c.grade);
    REQUIRE(r.rules_size() == static_cast<int>(c.rules.size()));
    for (size_t i = 0; i < c.rules.size(); ++i) {
      const v1::FiredRule& fired = r.rules(static_cast<int>(i));
      CHECK(fired.rule_id() == c.rules[i].first);
      CHECK(std::vector<std::string>(fired.evidence().begin(), fired.evidence().end()) ==
            c.rules[i].second);
      CHECK_FALSE(fired.description().empty());
    }
    if (c.graded_category != v1::COMPLAINT_CATEGORY_UNSPECIFIED) {
      CHECK(r.category() == c.graded_category);
    }
  }
}

TEST_CASE("grading: the explanation carries owner, budgets, policy and running grades") {
  const v1::GradingResult r = GradeCase(ByName("repeat complainant on a fee dispute"));
  CHECK(r.grade() == G3);
  CHECK(r.owner_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
  CHECK(rpc::FromProto(r.acknowledge_budget()) == absl::Hours(24));
  CHECK(rpc::FromProto(r.resolve_budget()) == absl::Hours(72));
  CHECK(r.policy().name() == "complaint");
  CHECK(r.policy().version() == Shipped().ref().version());
  CHECK(rpc::FromProto(r.graded_at()) == kNow);
  REQUIRE(r.rules_size() == 2);
  CHECK(r.rules(0).effect() == v1::RULE_EFFECT_FLOOR);
  CHECK(r.rules(0).floor() == G2);
  CHECK(r.rules(0).grade_after() == G2);
  CHECK(r.rules(1).effect() == v1::RULE_EFFECT_STEP);
  CHECK(r.rules(1).floor() == v1::COMPLAINT_GRADE_UNSPECIFIED);
  CHECK(r.rules(1).grade_after() == G3);
  CHECK(r.category() == v1::COMPLAINT_CATEGORY_FEE_DISPUTE);
  CHECK(r.category_inferred());
  CHECK(std::vector<std::string>(r.category_evidence().begin(), r.category_evidence().end()) ==
        std::vector<std::string>{"多收", "上门费"});

  const v1::GradingResult g4 = GradeCase(ByName("gas smell after a stove repair (Chinese)"));
  CHECK(g4.owner_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(rpc::FromProto(g4.acknowledge_budget()) == absl::Hours(1));
  const v1::GradingResult g1 = GradeCase(ByName("plain late arrival is G1"));
  REQUIRE(g1.grade() == G1);
  CHECK(g1.rules_size() == 0);
  CHECK(g1.owner_level() == v1::OWNER_LEVEL_CUSTOMER_SERVICE);
  CHECK(rpc::FromProto(g1.resolve_budget()) == absl::Hours(48));
}

TEST_CASE("grading: floors apply before steps whatever the policy order") {
  v1::ComplaintPolicy policy = Shipped();
  // Move the VIP step to the front: it must still apply after the floors.
  auto* rules = policy.mutable_rules();
  for (int i = rules->size() - 1; i > 0; --i) rules->SwapElements(i, i - 1);
  REQUIRE(policy.rules(0).rule_id() == "vip_customer");
  GradeInput in;
  const std::string text = "师傅乱收费";
  in.text = text;
  in.tier = v1::CUSTOMER_TIER_VIP;
  const v1::GradingResult r = Grade(in, policy, kNow);
  CHECK(r.grade() == G3);  // G2 floor, then +1
  REQUIRE(r.rules_size() == 2);
  CHECK(r.rules(0).rule_id() == "fee_dispute");
  CHECK(r.rules(1).rule_id() == "vip_customer");
  CHECK(r.rules(1).grade_after() == G3);
}

TEST_CASE("grading: rules are policy data — disable, re-floor, new keywords") {
  v1::ComplaintPolicy policy = Shipped();
  GradeInput in;
  const std::string text = "I will call 12315 and the media";
  in.text = text;
  REQUIRE(Grade(in, policy, kNow).grade() == G3);
  for (auto& rule : *policy.mutable_rules()) {
    if (rule.rule_id() == "public_pressure_keywords") rule.set_floor(G4);
  }
  CHECK(Grade(in, policy, kNow).grade() == G4);
  for (auto& rule : *policy.mutable_rules()) {
    if (rule.rule_id() == "public_pressure_keywords") rule.set_disabled(true);
  }
  const v1::GradingResult off = Grade(in, policy, kNow);
  CHECK(off.grade() == G1);
  CHECK(off.rules_size() == 0);

  const std::string dryer = "The dryer squeaks";
  in.text = dryer;
  CHECK(Grade(in, policy, kNow).grade() == G1);
  policy.add_strong_emotion_keywords("squeaks");
  CHECK(Grade(in, policy, kNow).grade() == G2);

  policy.set_vip_step(false);
  in.tier = v1::CUSTOMER_TIER_VIP;
  CHECK(Grade(in, policy, kNow).grade() == G2);  // emotion only
}

TEST_CASE("grading: a threshold of 2 for the same model counts the new complaint") {
  v1::ComplaintPolicy policy = Shipped();
  policy.set_same_model_threshold(2);
  GradeInput in;
  in.text = "fridge noisy";
  in.appliance_model = "X1";
  CHECK(Grade(in, policy, kNow).grade() == G1);
  in.same_model_history = {{"CP-9", kNow - absl::Hours(2)}};
  const auto r = Grade(in, policy, kNow);
  CHECK(r.grade() == G3);
  REQUIRE(r.rules_size() == 1);
  CHECK(r.rules(0).evidence(1) == "complaints=2 within 3d");
  // Without a model the rule cannot fire.
  in.appliance_model = "";
  CHECK(Grade(in, policy, kNow).grade() == G1);
}

TEST_CASE("grading: an order complaint has not seen cannot fire order rules") {
  GradeInput in;
  const std::string text = "The engineer arrived late";
  in.text = text;
  v1::LinkedOrderContext unknown;
  unknown.set_order_id("WO-404");
  in.order = &unknown;
  const auto r = Grade(in, Shipped(), kNow);
  CHECK(r.grade() == G1);
  CHECK(r.rules_size() == 0);
}

TEST_CASE("grading: evidence is bounded") {
  v1::ComplaintPolicy policy = Shipped();
  std::string text;
  for (int i = 0; i < 40; ++i) {
    const std::string word = "angerword" + std::to_string(i);
    policy.add_strong_emotion_keywords(word);
    text += word + " ";
  }
  policy.add_strong_emotion_keywords(std::string(64, 'z'));
  GradeInput in;
  in.text = text;
  const auto r = Grade(in, policy, kNow);
  REQUIRE(r.rules_size() == 1);
  CHECK(r.rules(0).evidence_size() == 32);
}

}  // namespace
}  // namespace aftersales::complaint::domain
