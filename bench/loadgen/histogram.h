#ifndef AFTERSALES_BENCH_LOADGEN_HISTOGRAM_H_
#define AFTERSALES_BENCH_LOADGEN_HISTOGRAM_H_

// A small HDR-style (log-linear) latency histogram. Debian ships HdrHistogram
// only for Java and Go, so the load generator carries its own: values (in
// nanoseconds) below 2^kSubBits are exact; above, each power of two is split
// into 2^(kSubBits-1) equal buckets, so any recorded value is reported within
// 1/2^(kSubBits-1) (0.8% for kSubBits = 8) of its true value, over the whole
// 64-bit range, in a fixed array of ~7,500 counters. Recording is O(1)
// without allocation; merging is adding arrays.

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

namespace aftersales::bench {

class LogLinearHistogram {
 public:
  static constexpr int kSubBits = 8;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;  // exact below this
  static constexpr uint64_t kHalf = kSub / 2;                 // buckets per octave
  static constexpr size_t kBuckets = (64 - kSubBits + 2) * kHalf;

  static size_t IndexOf(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int msb = 63 - std::countl_zero(v);
    const int shift = msb - (kSubBits - 1);  // (v >> shift) in [kHalf, kSub)
    return static_cast<size_t>((shift + 1) * kHalf + (v >> shift) - kHalf);
  }
  // The highest value that falls into bucket `i` (HDR's "highest equivalent").
  static uint64_t HighestOf(size_t i) {
    if (i < kSub) return i;
    const int shift = static_cast<int>(i / kHalf) - 1;
    const uint64_t sub = i % kHalf + kHalf;
    return ((sub + 1) << shift) - 1;
  }

  void Record(uint64_t v) {
    ++counts_[IndexOf(v)];
    ++count_;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
    sum_ += static_cast<double>(v);
  }
  void Merge(const LogLinearHistogram& o) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
    min_ = std::min(min_, o.min_);
    sum_ += o.sum_;
  }

  uint64_t count() const { return count_; }
  uint64_t max() const { return count_ ? max_ : 0; }
  uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }

  // The value at quantile q in [0, 1] (0 if empty), never above max().
  uint64_t Quantile(double q) const {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(HighestOf(i), max_);
    }
    return max_;
  }

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
  double sum_ = 0;
};

}  // namespace aftersales::bench

#endif  // AFTERSALES_BENCH_LOADGEN_HISTOGRAM_H_
