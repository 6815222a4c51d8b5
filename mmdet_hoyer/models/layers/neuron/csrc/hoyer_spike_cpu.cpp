// Fused CPU kernels of the one-time-step Hoyer spiking neuron's training step
// (Datta, Liu & Beerel, arXiv 2212.10170; the readable reference is functional.py).
//
//   hoyer_forward   : one pass over z -> u = clamp(z/|θ|, lo, hi) (float32, what backward reads)
//                     and the moments s1 = Σc, s2 = Σc², n = Σ1[u ≥ 1] of c = clamp(u, 0, 1), per
//                     layer or per channel; then E = Σc²/Σc (the Hoyer extremum), the Hoyer square
//                     H = (Σc)²/Σc², the running-estimate update, and one pass for o = 1[u ≥ E].
//   hoyer_moments   : the first pass alone (distributed training all-reduces the moments first).
//   hoyer_spike_map : the spike pass alone (spike maps rebuilt in backward, recompute.py).
//   hoyer_backward  : one pass over (∂L/∂o, u) -> ∂L/∂z and θ's Σ ∂L/∂u·u: the box-car surrogate
//                     scale·1[lower < u ≤ upper]·∂L/∂o plus the Hoyer-square regularizer's
//                     (g1 + 2·g2·u)·1[0 < u < 1] (H's gradient included), chained through u = z/|θ|.
//
// The eager neuron runs these as about 6 (forward) and 7 (backward) separate ATen passes over an
// activation-sized tensor; on a memory-bound CPU the passes, not the arithmetic, are its cost.
// Every element-wise expression is the eager one in the same float32 order (u is the same
// correctly rounded division, so the spikes 1[u ≥ E] are bit-equal for the same E; no FMA
// contraction: the targets below do not enable FMA). The sums are accumulated in float32 vector
// lanes over blocks of BLOCK values, then in float64, in an order fixed by the thread count.
//
// Vectorised with GCC/Clang vector extensions, compiled twice (AVX2, 8 lanes; baseline x86-64
// or any other architecture, 4 lanes) and chosen at run time: no -march flag, so a build runs on
// every CPU of its architecture.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#define HOYER_INLINE inline __attribute__((always_inline))

namespace {

constexpr int64_t BLOCK = 512;  // per block: float32 lane sums of <= 128 values, then float64
constexpr int64_t GRAIN = 1 << 15;  // at::parallel_for grain (elements)

template <int W>
struct VecT;
template <>
struct VecT<4> {
  typedef float type __attribute__((vector_size(16)));
};
template <>
struct VecT<8> {
  typedef float type __attribute__((vector_size(32)));
};

template <int W, typename scalar_t>
HOYER_INLINE typename VecT<W>::type load(const scalar_t* p) {
  typename VecT<W>::type v;
  if constexpr (std::is_same_v<scalar_t, float>) {
    std::memcpy(&v, p, sizeof(v));
  } else {
    for (int k = 0; k < W; ++k) v[k] = static_cast<float>(p[k]);
  }
  return v;
}

template <int W, typename scalar_t>
HOYER_INLINE void store(scalar_t* p, const typename VecT<W>::type& v) {
  if constexpr (std::is_same_v<scalar_t, float>) {
    std::memcpy(p, &v, sizeof(v));
  } else {
    for (int k = 0; k < W; ++k) p[k] = static_cast<scalar_t>(v[k]);
  }
}

template <int W>
HOYER_INLINE double lane_sum(const typename VecT<W>::type& v) {
  double s = 0;
  for (int k = 0; k < W; ++k) s += v[k];
  return s;
}

// ------------------------------------------------------------------ forward: u and moments
struct MomentsArgs {
  float t, lo, hi;
};

// Over z[b, e) (one channel): writes u, adds Σc, Σc², Σ1[u ≥ 1] to acc[0..2].
template <typename scalar_t, int W>
HOYER_INLINE void moments_run(const scalar_t* __restrict__ z, float* __restrict__ u, int64_t b,
                              int64_t e, const MomentsArgs& a, double* acc) {
  using V = typename VecT<W>::type;
  const V zero = {};
  const V one = zero + 1.f, t = zero + a.t, lo = zero + a.lo, hi = zero + a.hi;
  for (int64_t blk = b; blk < e; blk += BLOCK) {
    const int64_t stop = std::min(e, blk + BLOCK);
    V s1 = zero, s2 = zero, sn = zero;
    int64_t i = blk;
    for (; i + W <= stop; i += W) {
      V v = load<W>(z + i) / t;  // u = z/|θ|, bounded (keeps E's side of every u)
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
      store<W>(u + i, v);
      V c = v < zero ? zero : v;  // c = clamp(u, 0, 1)
      c = c > one ? one : c;
      s1 += c;
      s2 += c * c;
      sn += v >= one ? one : zero;
    }
    float r1 = 0.f, r2 = 0.f, rn = 0.f;
    for (; i < stop; ++i) {
      float v = static_cast<float>(z[i]) / a.t;
      v = v < a.lo ? a.lo : v;
      v = v > a.hi ? a.hi : v;
      u[i] = v;
      float c = v < 0.f ? 0.f : v;
      c = c > 1.f ? 1.f : c;
      r1 += c;
      r2 += c * c;
      rn += v >= 1.f ? 1.f : 0.f;
    }
    acc[0] += lane_sum<W>(s1) + r1;
    acc[1] += lane_sum<W>(s2) + r2;
    acc[2] += lane_sum<W>(sn) + rn;
  }
}

template <typename scalar_t>
__attribute__((noinline)) void moments_run_base(const scalar_t* z, float* u, int64_t b,
                                                int64_t e, const MomentsArgs& a, double* acc) {
  moments_run<scalar_t, 4>(z, u, b, e, a, acc);
}

#if defined(__x86_64__)
template <typename scalar_t>
__attribute__((noinline, target("avx2"))) void moments_run_avx2(
    const scalar_t* z, float* u, int64_t b, int64_t e, const MomentsArgs& a, double* acc) {
  moments_run<scalar_t, 8>(z, u, b, e, a, acc);
}
#endif

// ------------------------------------------------------------------ spikes
// o[b, e) = 1[u ≥ ext] in o's dtype (one channel: one extremum E).
template <typename scalar_t, int W>
HOYER_INLINE void spike_run(const float* __restrict__ u, scalar_t* __restrict__ o, int64_t b,
                            int64_t e, float ext) {
  using V = typename VecT<W>::type;
  const V zero = {};
  const V one = zero + 1.f, vt = zero + ext;
  int64_t i = b;
  for (; i + W <= e; i += W) store<W>(o + i, load<W>(u + i) >= vt ? one : zero);
  for (; i < e; ++i) o[i] = static_cast<scalar_t>(u[i] >= ext ? 1.f : 0.f);
}

template <typename scalar_t>
__attribute__((noinline)) void spike_run_base(const float* u, scalar_t* o, int64_t b, int64_t e,
                                              float ext) {
  spike_run<scalar_t, 4>(u, o, b, e, ext);
}

#if defined(__x86_64__)
template <typename scalar_t>
__attribute__((noinline, target("avx2"))) void spike_run_avx2(const float* u, scalar_t* o,
                                                              int64_t b, int64_t e, float ext) {
  spike_run<scalar_t, 8>(u, o, b, e, ext);
}
#endif

// ------------------------------------------------------------------ backward
struct BackwardArgs {
  float t, scale, lower, upper;
  bool has_reg, reg_theta_grad, need_t;
};

// Over [b, e) (one channel of the regularizer's g1, g2x2 = 2·g2): writes ∂L/∂z, adds
// Σ ∂L/∂u·u (θ's part: without the regularizer's term unless reg_theta_grad) to *acc.
template <typename scalar_t, int W>
HOYER_INLINE void backward_run(const scalar_t* __restrict__ grad_o, const float* __restrict__ u,
                               scalar_t* __restrict__ grad_z, int64_t b, int64_t e,
                               const BackwardArgs& a, float g1, float g2x2, double* acc) {
  using V = typename VecT<W>::type;
  const V zero = {};
  const V one = zero + 1.f, t = zero + a.t, scale = zero + a.scale;
  const V lower = zero + a.lower, upper = zero + a.upper, r1 = zero + g1, r2 = zero + g2x2;
  for (int64_t blk = b; blk < e; blk += BLOCK) {
    const int64_t stop = std::min(e, blk + BLOCK);
    V st = zero;
    int64_t i = blk;
    for (; i + W <= stop; i += W) {
      const V v = load<W>(u + i);
      const V g = load<W>(grad_o + i);
      V gu = (v > lower) & (v <= upper) ? g * scale : zero;  // surrogate window
      V gt = gu;
      if (a.has_reg) {
        const V reg = (v > zero) & (v < one) ? v * r2 + r1 : zero;  // (g1 + 2·g2·u)·1[0<u<1]
        gu = gu + reg;
        if (a.reg_theta_grad) gt = gu;
      }
      if (a.need_t) st += gt * v;
      store<W>(grad_z + i, gu / t);
    }
    float rt = 0.f;
    for (; i < stop; ++i) {
      const float v = u[i];
      const float g = static_cast<float>(grad_o[i]);
      float gu = (v > a.lower && v <= a.upper) ? g * a.scale : 0.f;
      float gt = gu;
      if (a.has_reg) {
        const float reg = (v > 0.f && v < 1.f) ? v * g2x2 + g1 : 0.f;
        gu = gu + reg;
        if (a.reg_theta_grad) gt = gu;
      }
      if (a.need_t) rt += gt * v;
      grad_z[i] = static_cast<scalar_t>(gu / a.t);
    }
    *acc += lane_sum<W>(st) + rt;
  }
}

template <typename scalar_t>
__attribute__((noinline)) void backward_run_base(const scalar_t* g, const float* u,
                                                 scalar_t* gz, int64_t b, int64_t e,
                                                 const BackwardArgs& a, float g1, float g2x2,
                                                 double* acc) {
  backward_run<scalar_t, 4>(g, u, gz, b, e, a, g1, g2x2, acc);
}

#if defined(__x86_64__)
template <typename scalar_t>
__attribute__((noinline, target("avx2"))) void backward_run_avx2(
    const scalar_t* g, const float* u, scalar_t* gz, int64_t b, int64_t e,
    const BackwardArgs& a, float g1, float g2x2, double* acc) {
  backward_run<scalar_t, 8>(g, u, gz, b, e, a, g1, g2x2, acc);
}
#endif

// AVX2 where the CPU has it; MMDET_HOYER_CPU_ISA=baseline forces the baseline code (tests).
bool use_avx2() {
#if defined(__x86_64__)
  static const bool yes = [] {
    const char* isa = std::getenv("MMDET_HOYER_CPU_ISA");
    if (isa != nullptr && std::strcmp(isa, "baseline") == 0) return false;
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return yes;
#else
  return false;
#endif
}

// ------------------------------------------------------------------ layout and threads
struct Layout {
  int64_t numel, channels, inner;  // element i belongs to channel (i / inner) % channels
};

Layout layout_of(const at::Tensor& x, bool per_channel) {
  const int64_t numel = x.numel();
  if (!per_channel) return {numel, 1, std::max<int64_t>(numel, 1)};
  TORCH_CHECK(x.dim() >= 2, "per-channel Hoyer statistics need an (N, C, ...) input, got shape ",
              x.sizes());
  int64_t inner = 1;
  for (int64_t d = 2; d < x.dim(); ++d) inner *= x.size(d);
  return {numel, x.size(1), std::max<int64_t>(inner, 1)};
}

// Splits [0, numel) over the intra-op threads and calls f(begin, end, channel, thread) for each
// run of one channel; a thread's runs are in ascending order (deterministic partial sums).
template <typename F>
void parallel_runs(const Layout& l, const F& f) {
  at::parallel_for(0, l.numel, GRAIN, [&](int64_t begin, int64_t end) {
    const int thread = at::get_thread_num();
    int64_t i = begin;
    while (i < end) {
      const int64_t row = i / l.inner;
      const int64_t stop = std::min(end, (row + 1) * l.inner);
      f(i, stop, row % l.channels, thread);
      i = stop;
    }
  });
}

// ------------------------------------------------------------------ ops
constexpr float EXTREMUM_EPS = 1.17549435082228750797e-38f;  // float32 tiny, as hoyer_functional

float theta_value(const at::Tensor& theta_abs) {
  TORCH_CHECK(theta_abs.numel() == 1, "the Hoyer neuron's |θ| must be one number, got shape ",
              theta_abs.sizes());
  const float t = theta_abs.to(at::kFloat).item<float>();
  TORCH_CHECK(t > 0, "the Hoyer neuron's |θ| must be > 0, got ", t);
  return t;
}

// u (bounded, float32) and the moments s1 = Σc, s2 = Σc², n = Σ1[u ≥ 1] (float32, () or (C,)).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> moments(const at::Tensor& z,
                                                                   float t, double lo,
                                                                   double hi,
                                                                   const Layout& l,
                                                                   bool per_channel) {
  at::Tensor u = at::empty(z.sizes(), z.options().dtype(at::kFloat));
  const int threads = at::get_num_threads();
  std::vector<double> partial(static_cast<size_t>(threads) * l.channels * 3, 0.0);
  const MomentsArgs args{t, static_cast<float>(lo), static_cast<float>(hi)};
  const bool avx2 = use_avx2();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, z.scalar_type(), "hoyer_moments", [&] {
    const scalar_t* zp = z.const_data_ptr<scalar_t>();
    float* up = u.mutable_data_ptr<float>();
    parallel_runs(l, [&](int64_t b, int64_t e, int64_t c, int th) {
      double* acc = partial.data() + (th * l.channels + c) * 3;
#if defined(__x86_64__)
      if (avx2) return moments_run_avx2<scalar_t>(zp, up, b, e, args, acc);
#endif
      moments_run_base<scalar_t>(zp, up, b, e, args, acc);
    });
  });
  const auto opts = z.options().dtype(at::kFloat);
  at::Tensor s1 = per_channel ? at::empty({l.channels}, opts) : at::empty({}, opts);
  at::Tensor s2 = at::empty(s1.sizes(), opts), n = at::empty(s1.sizes(), opts);
  float *p1 = s1.mutable_data_ptr<float>(), *p2 = s2.mutable_data_ptr<float>(),
        *pn = n.mutable_data_ptr<float>();
  for (int64_t c = 0; c < l.channels; ++c) {
    double a1 = 0, a2 = 0, an = 0;
    for (int th = 0; th < threads; ++th) {
      const double* acc = partial.data() + (th * l.channels + c) * 3;
      a1 += acc[0];
      a2 += acc[1];
      an += acc[2];
    }
    p1[c] = static_cast<float>(a1);
    p2[c] = static_cast<float>(a2);
    pn[c] = static_cast<float>(an);
  }
  return {u, s1, s2, n};
}

at::Tensor checked_input(const at::Tensor& z, const char* op) {
  TORCH_CHECK(z.device().is_cpu(), op, ": expects a CPU tensor, got ", z.device());
  return z.contiguous();
}

// The moments alone, for distributed training (they are all-reduced before E is formed).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> hoyer_moments(
    const at::Tensor& z_in, const at::Tensor& theta_abs, double lo, double hi,
    bool per_channel) {
  const at::Tensor z = checked_input(z_in, "hoyer_moments");
  return moments(z, theta_value(theta_abs), lo, hi, layout_of(z, per_channel), per_channel);
}

// spikes = 1[u ≥ ext[channel]] over the layout's runs, in spikes' dtype.
void write_spikes(const at::Tensor& u, const float* ext, const Layout& l, at::Tensor& spikes) {
  const bool avx2 = use_avx2();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, spikes.scalar_type(), "hoyer_spikes", [&] {
    const float* up = u.const_data_ptr<float>();
    scalar_t* op = spikes.mutable_data_ptr<scalar_t>();
    parallel_runs(l, [&](int64_t b, int64_t end, int64_t c, int) {
#if defined(__x86_64__)
      if (avx2) return spike_run_avx2<scalar_t>(up, op, b, end, ext[c]);
#endif
      spike_run_base<scalar_t>(up, op, b, end, ext[c]);
    });
  });
}

// The whole training forward of one process: (spikes in z's dtype, u, E, s1, s2, H, sums).
// E = Σc²/Σc of the batch (less the saturated count n in both sums when exclude_saturated),
// the fallback (running estimate) where Σc = 0, clamped to [EXTREMUM_EPS, 1]: the float32
// operations of hoyer_functional.hoyer_extremum. Spikes o = 1[u ≥ E]. H = S1²/S2 (0 when
// S2 = 0), S = the moments summed over channels (hoyer_functional.hoyer_square); sums = (S1, S2)
// for H's gradient in hoyer_backward. With `running`, the running estimate is updated in place
// after E is formed: running ← (1 − m)·running + m·E (hoyer_functional.update_running).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>
hoyer_forward(const at::Tensor& z_in, const at::Tensor& theta_abs, const at::Tensor& fallback_in,
              double lo, double hi, bool per_channel, bool exclude_saturated,
              const std::optional<at::Tensor>& running, double momentum) {
  const at::Tensor z = checked_input(z_in, "hoyer_forward");
  const Layout l = layout_of(z, per_channel);
  auto [u, s1, s2, n] = moments(z, theta_value(theta_abs), lo, hi, l, per_channel);
  const at::Tensor fallback = fallback_in.to(at::kFloat).contiguous();
  TORCH_CHECK(fallback.numel() == 1 || fallback.numel() == l.channels,
              "hoyer_forward: the fallback extremum needs 1 or ", l.channels, " values, got ",
              fallback.numel());
  if (running.has_value())
    TORCH_CHECK(running->scalar_type() == at::kFloat && running->is_contiguous() &&
                    running->numel() == l.channels && running->device().is_cpu(),
                "hoyer_forward: the running estimate must be a contiguous float32 CPU tensor "
                "with ", l.channels, " values");
  at::Tensor e = at::empty(s1.sizes(), s1.options());
  const float *p1 = s1.const_data_ptr<float>(), *p2 = s2.const_data_ptr<float>(),
              *pn = n.const_data_ptr<float>(), *pf = fallback.const_data_ptr<float>();
  float* pe = e.mutable_data_ptr<float>();
  double sum1 = 0, sum2 = 0;
  for (int64_t c = 0; c < l.channels; ++c) {
    const float m1 = exclude_saturated ? p1[c] - pn[c] : p1[c];
    const float m2 = exclude_saturated ? p2[c] - pn[c] : p2[c];
    float v = m1 > 0.f ? m2 / std::max(m1, EXTREMUM_EPS) : pf[fallback.numel() > 1 ? c : 0];
    v = v < EXTREMUM_EPS ? EXTREMUM_EPS : v;
    pe[c] = v > 1.f ? 1.f : v;
    sum1 += p1[c];
    sum2 += p2[c];
  }
  if (running.has_value()) {  // after every E is formed: the fallback may be this buffer
    float* pr = running->mutable_data_ptr<float>();
    const float keep = static_cast<float>(1.0 - momentum), w = static_cast<float>(momentum);
    for (int64_t c = 0; c < l.channels; ++c) pr[c] = pr[c] * keep + w * pe[c];
  }
  at::Tensor sums = at::empty({2}, s1.options());
  float* ps = sums.mutable_data_ptr<float>();
  ps[0] = static_cast<float>(sum1);
  ps[1] = static_cast<float>(sum2);
  at::Tensor h = at::empty({}, s1.options());
  h.mutable_data_ptr<float>()[0] = ps[1] > 0.f ? (ps[0] * ps[0]) / ps[1] : 0.f;
  at::Tensor spikes = at::empty(z.sizes(), z.options());
  write_spikes(u, pe, l, spikes);
  return {spikes, u, e, s1, s2, h, sums};
}

// o = 1[u ≥ E] in dtype: the spike map rebuilt from the saved u (recompute.py).
// extremum: E, one value, or one per channel (dim 1 of u), in any shape.
at::Tensor hoyer_spike_map(const at::Tensor& u_in, const at::Tensor& extremum,
                           at::ScalarType dtype) {
  const at::Tensor u = checked_input(u_in, "hoyer_spike_map");
  TORCH_CHECK(u.scalar_type() == at::kFloat, "hoyer_spike_map: u must be float32, got ",
              u.scalar_type());
  const at::Tensor ext = extremum.to(at::kFloat).contiguous();
  const bool per_channel = ext.numel() > 1;
  TORCH_CHECK(!per_channel || (u.dim() >= 2 && u.size(1) == ext.numel()),
              "hoyer_spike_map: the extremum E needs 1 value or one per channel of u (shape ",
              u.sizes(), "), got ", ext.numel());
  at::Tensor spikes = at::empty(u.sizes(), u.options().dtype(dtype));
  write_spikes(u, ext.const_data_ptr<float>(), layout_of(u, per_channel), spikes);
  return spikes;
}

float reg_value(const std::optional<at::Tensor>& g, int64_t c, bool per_channel) {
  return g.has_value() ? g->const_data_ptr<float>()[per_channel ? c : 0] : 0.f;
}

// (∂L/∂z in grad_o's dtype, ∂L/∂|θ| float32 of |θ|'s shape). g1, g2: the regularizer's ∂L/∂s1
// and ∂L/∂s2 (absent: 0), one value (per layer) or C values (per channel).
std::tuple<at::Tensor, at::Tensor> hoyer_backward(
    const at::Tensor& grad_o_in, const at::Tensor& u_in, const at::Tensor& theta_abs,
    double scale, double lower, double upper, const std::optional<at::Tensor>& g1_in,
    const std::optional<at::Tensor>& g2_in, const std::optional<at::Tensor>& grad_h,
    const std::optional<at::Tensor>& sums, bool reg_theta_grad, bool need_t) {
  const at::Tensor grad_o = checked_input(grad_o_in, "hoyer_backward");
  const at::Tensor u = checked_input(u_in, "hoyer_backward");
  TORCH_CHECK(u.scalar_type() == at::kFloat, "hoyer_backward: u must be float32, got ",
              u.scalar_type());
  TORCH_CHECK(grad_o.sizes() == u.sizes(), "hoyer_backward: grad_o has shape ", grad_o.sizes(),
              ", u has ", u.sizes());
  const float t = theta_value(theta_abs);
  // H = S1²/S2 (hoyer_forward): ∂H/∂s1[c] = 2·S1/S2, ∂H/∂s2[c] = −S1²/S2² for every channel,
  // in the float32 operations autograd applies to hoyer_functional.hoyer_square (0 if S2 = 0)
  float h1 = 0.f, h2 = 0.f;
  const bool has_h = grad_h.has_value() && sums.has_value();
  if (has_h) {
    TORCH_CHECK(grad_h->numel() == 1 && sums->numel() == 2 && sums->scalar_type() == at::kFloat,
                "hoyer_backward: grad_h must be one value and sums (S1, S2) two float32 values");
    const float gh = grad_h->to(at::kFloat).item<float>();
    const float* ps = sums->const_data_ptr<float>();
    if (ps[1] > 0.f) {
      h1 = (gh / ps[1]) * (2.f * ps[0]);
      h2 = -gh * (ps[0] * ps[0]) / (ps[1] * ps[1]);
    }
  }
  const bool has_reg = g1_in.has_value() || g2_in.has_value() || has_h;
  std::optional<at::Tensor> g1, g2x2;
  int64_t k = 1;
  for (const auto* g : {&g1_in, &g2_in})
    if (g->has_value()) k = std::max(k, (*g)->numel());
  if (k > 1)
    TORCH_CHECK(u.dim() >= 2 && u.size(1) == k, "hoyer_backward: per-channel regularizer "
                "gradients need ", u.dim() >= 2 ? u.size(1) : 0, " values, got ", k);
  for (const auto* g : {&g1_in, &g2_in})
    if (g->has_value())
      TORCH_CHECK((*g)->numel() == k, "hoyer_backward: g1 and g2 need the same number of "
                  "values, got ", g1_in.has_value() ? g1_in->numel() : 0, " and ",
                  g2_in.has_value() ? g2_in->numel() : 0);
  if (g1_in.has_value()) g1 = g1_in->to(at::kFloat).contiguous();
  if (g2_in.has_value()) g2x2 = g2_in->to(at::kFloat).contiguous();
  const bool per_channel = k > 1;
  const Layout l = layout_of(u, per_channel);
  at::Tensor grad_z = at::empty(u.sizes(), grad_o.options());
  const int threads = at::get_num_threads();
  std::vector<double> partial(threads, 0.0);
  const BackwardArgs args{t,        static_cast<float>(scale), static_cast<float>(lower),
                          static_cast<float>(upper), has_reg,  reg_theta_grad,
                          need_t};
  const bool avx2 = use_avx2();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_o.scalar_type(), "hoyer_backward", [&] {
    const scalar_t* gp = grad_o.const_data_ptr<scalar_t>();
    const float* up = u.const_data_ptr<float>();
    scalar_t* gzp = grad_z.mutable_data_ptr<scalar_t>();
    parallel_runs(l, [&](int64_t b, int64_t e, int64_t c, int th) {
      // r2 = 2·g2 (exact in float32, as the eager 2.0 * g2.float()); H's part added to both
      const float r1 = reg_value(g1, c, per_channel) + h1;
      const float r2 = 2.f * (reg_value(g2x2, c, per_channel) + h2);
#if defined(__x86_64__)
      if (avx2) return backward_run_avx2<scalar_t>(gp, up, gzp, b, e, args, r1, r2, &partial[th]);
#endif
      backward_run_base<scalar_t>(gp, up, gzp, b, e, args, r1, r2, &partial[th]);
    });
  });
  double sum = 0;
  for (int th = 0; th < threads; ++th) sum += partial[th];
  at::Tensor grad_t = at::empty(theta_abs.sizes(), u.options());
  grad_t.mutable_data_ptr<float>()[0] = -static_cast<float>(sum) / t;
  return {grad_z, grad_t};
}

}  // namespace

TORCH_LIBRARY(mmdet_hoyer, m) {
  m.def("hoyer_moments(Tensor z, Tensor theta_abs, float lo, float hi, bool per_channel) "
        "-> (Tensor, Tensor, Tensor, Tensor)");
  m.def("hoyer_forward(Tensor z, Tensor theta_abs, Tensor fallback, float lo, float hi, "
        "bool per_channel, bool exclude_saturated, Tensor(a!)? running, float momentum) "
        "-> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("hoyer_spike_map(Tensor u, Tensor extremum, ScalarType dtype) -> Tensor");
  m.def("hoyer_backward(Tensor grad_o, Tensor u, Tensor theta_abs, float scale, float lower, "
        "float upper, Tensor? g1, Tensor? g2, Tensor? grad_h, Tensor? sums, "
        "bool reg_theta_grad, bool need_t) "
        "-> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(mmdet_hoyer, CPU, m) {
  m.impl("hoyer_moments", &hoyer_moments);
  m.impl("hoyer_forward", &hoyer_forward);
  m.impl("hoyer_spike_map", &hoyer_spike_map);
  m.impl("hoyer_backward", &hoyer_backward);
}
