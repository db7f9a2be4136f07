// Bayesian layers: the closed-form KL against Monte Carlo, local
// reparameterisation against explicitly sampled weights, and input checks.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::bnn {
namespace {

using diffeo::testing::expect_error;

class DoublePrecision : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = torch::get_default_dtype();
    torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
    torch::manual_seed(0);
  }
  void TearDown() override { torch::set_default_dtype(saved_); }

 private:
  caffe2::TypeMeta saved_;
};

using GaussianKl = DoublePrecision;

TEST_F(GaussianKl, ClosedFormMatchesMonteCarlo) {
  auto mean = torch::randn({6}) * 0.8;
  auto std = torch::exp(torch::randn({6}) * 0.5 - 0.5);
  const double prior_variance = 1.7;
  const int64_t n = 200000;
  auto w = mean + std * torch::randn({n, 6});
  auto log_q = (-0.5 * ((w - mean) / std).square() - std.log()).sum(1);
  auto log_p = (-0.5 * w.square() / prior_variance - 0.5 * std::log(prior_variance)).sum(1);
  auto ratio = log_q - log_p;
  const double mc = ratio.mean().item<double>();
  const double se = ratio.std().item<double>() / std::sqrt(double(n));
  const double closed = gaussian_kl(mean, std, prior_variance).item<double>();
  EXPECT_GT(closed, 0.5);  // not a trivial case
  EXPECT_NEAR(closed, mc, 5 * se);
  EXPECT_LT(se, 0.01);
}

TEST_F(GaussianKl, IsZeroExactlyAtThePrior) {
  auto kl = gaussian_kl(torch::zeros({5}), torch::full({5}, std::sqrt(2.0)), 2.0);
  EXPECT_NEAR(kl.item<double>(), 0.0, 1e-12);
}

// Moments of each output coordinate from two samples [n, outputs...].
void expect_same_distribution(const torch::Tensor& a, const torch::Tensor& b,
                              const std::string& what) {
  auto flat_a = a.reshape({a.size(0), -1}), flat_b = b.reshape({b.size(0), -1});
  const double n = double(a.size(0));
  auto mean_a = flat_a.mean(0), mean_b = flat_b.mean(0);
  auto var_a = flat_a.var(0), var_b = flat_b.var(0);
  auto mean_se = torch::sqrt((var_a + var_b) / n);
  // se of a sample variance from the fourth central moment (any distribution).
  auto fourth = [&](const torch::Tensor& x, const torch::Tensor& m) {
    return (x - m).pow(4).mean(0);
  };
  auto var_se = torch::sqrt((fourth(flat_a, mean_a) - var_a.square() + fourth(flat_b, mean_b) -
                             var_b.square()) / n);
  EXPECT_TRUE(((mean_a - mean_b).abs() < 5 * mean_se + 1e-9).all().item<bool>())
      << what << ": means " << mean_a << " vs " << mean_b;
  EXPECT_TRUE(((var_a - var_b).abs() < 5 * var_se + 1e-9).all().item<bool>())
      << what << ": variances " << var_a << " vs " << var_b;
  EXPECT_GT(var_a.min().item<double>(), 1e-3) << what << ": outputs should be noisy";
}

// Sets a Gaussian-weights module to sds around 0.3 so the noise matters.
void widen(GaussianWeights& weights) {
  torch::NoGradGuard no_grad;
  weights->weight_log_std.copy_(std::log(0.3) + 0.3 * torch::randn_like(weights->weight_log_std));
  weights->bias_log_std.fill_(std::log(0.2));
  weights->bias_mean.copy_(torch::randn_like(weights->bias_mean));
}

// Outputs for n weight draws [n, out, in...] applied to one input x [1, ...].
torch::Tensor apply_each(const LayerGeometry& g, const torch::Tensor& x, const torch::Tensor& w,
                         const torch::Tensor& b) {
  const auto n = w.size(0);
  if (!g.is_conv()) return torch::einsum("noi,i->no", {w, x[0]}) + b;
  auto patches = torch::im2col(x, {g.kernel, g.kernel}, {1, 1}, {g.padding, g.padding},
                               {g.stride, g.stride})[0];  // [in k k, L]
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(double(patches.size(1)))));
  auto out = torch::matmul(w.reshape({n, g.out, -1}), patches) + b.unsqueeze(-1);
  return out.reshape({n, g.out, side, side});
}

// n copies of the single row x [1, ...], one per draw.
torch::Tensor repeated(const torch::Tensor& x, int64_t n) {
  auto shape = x.sizes().vec();
  shape[0] = n;
  return x.expand(shape).contiguous();
}

// `shape` with a leading dimension of n draws.
std::vector<int64_t> with_draws(std::vector<int64_t> shape, int64_t n) {
  shape.insert(shape.begin(), n);
  return shape;
}

using LocalReparameterisation = DoublePrecision;

TEST_F(LocalReparameterisation, MeanFieldMatchesSampledWeights) {
  const int64_t n = 40000;
  for (auto g : {LayerGeometry::dense(4, 3), LayerGeometry::conv2d(2, 3, 3)}) {
    MeanFieldLayer layer(g);
    auto weights = layer->weights();
    widen(weights);
    auto x = g.is_conv() ? torch::randn({1, 2, 5, 5}) : torch::randn({1, 4});
    torch::NoGradGuard no_grad;
    auto local = layer->forward(repeated(x, n));
    auto wshape = with_draws(g.weight_shape(), n);
    auto w = weights->weight_mean + weights->weight_std() * torch::randn(wshape);
    auto b = weights->bias_mean + weights->bias_std() * torch::randn({n, g.out});
    expect_same_distribution(local, apply_each(g, x, w, b), g.describe());
  }
}

TEST_F(LocalReparameterisation, MNFMatchesWeightsSampledGivenZ) {
  const int64_t n = 40000;
  for (auto g : {LayerGeometry::dense(4, 3), LayerGeometry::conv2d(2, 3, 3)}) {
    MNFLayer layer(g, MNFOptions().noise(MultiplicativeNoiseOptions().initial_variance(0.3)));
    auto weights = layer->weights();
    widen(weights);
    // z around 2, so that scaling the variances by z^2 as well as the means would show.
    torch::NoGradGuard no_grad_init;
    layer->noise()->base_mean.fill_(2.0);
    auto x = g.is_conv() ? torch::randn({1, 2, 5, 5}) : torch::randn({1, 4});
    torch::NoGradGuard no_grad;
    auto local = layer->forward(repeated(x, n));
    // W | z ~ N(z-scaled means, sd^2): z scales inputs (dense) or output channels (conv).
    auto z = layer->noise()->sample(n);
    auto zshape = with_draws(layer->z_shape(), n);
    auto means = weights->weight_mean.view({g.out, -1}) * z.view(zshape);
    auto wshape = with_draws(g.weight_shape(), n);
    auto w = means.view(wshape) + weights->weight_std() * torch::randn(wshape);
    auto b = weights->bias_mean + weights->bias_std() * torch::randn({n, g.out});
    expect_same_distribution(local, apply_each(g, x, w, b), g.describe());
  }
}

TEST(BayesianLayers, KlTermsAreTheClosedFormsAndThePriorPenalty) {
  torch::manual_seed(1);
  MeanFieldLinear mean_field(5, 2, LayerOptions().prior_variance(0.5));
  auto w = mean_field->weights();
  EXPECT_NEAR(mean_field->kl().item<double>(),
              (gaussian_kl(w->weight_mean, w->weight_std(), 0.5) +
               gaussian_kl(w->bias_mean, w->bias_std(), 0.5))
                  .item<double>(),
              1e-3);
  PointLinear point(5, 2, LayerOptions().prior_variance(0.5));
  EXPECT_NEAR(point->kl().item<double>(),
              ((point->weight.square().sum() + point->bias.square().sum()) / 1.0).item<double>(),
              1e-4);
  // sds above max_std are capped in both the forward pass and the KL.
  MeanFieldLinear capped(3, 2, LayerOptions().max_std(0.5).initial_log_std(2.0));
  EXPECT_NEAR(capped->weights()->weight_std().max().item<double>(), 0.5, 1e-7);
  const auto cw = capped->weights();
  EXPECT_NEAR(capped->kl().item<double>(),
              (gaussian_kl(cw->weight_mean, cw->weight_std(), 1.0) +
               gaussian_kl(cw->bias_mean, cw->bias_std(), 1.0))
                  .item<double>(),
              1e-4);
  // The authors' variant: capped in the forward pass only, the KL of the uncapped sds.
  MeanFieldLinear forward_only(
      3, 2, LayerOptions().max_std(0.5).initial_log_std(2.0).cap_std_in_kl(false));
  const auto fw = forward_only->weights();
  EXPECT_NEAR(fw->weight_std().max().item<double>(), 0.5, 1e-7);
  EXPECT_NEAR(forward_only->kl().item<double>(),
              (gaussian_kl(fw->weight_mean, torch::exp(fw->weight_log_std), 1.0) +
               gaussian_kl(fw->bias_mean, torch::exp(fw->bias_log_std), 1.0))
                  .item<double>(),
              1e-4);
  EXPECT_GT(forward_only->kl().item<double>(), capped->kl().item<double>() + 1.0);
}

TEST(BayesianLayers, EveryKindHasTheGeometrysShapesAndAFiniteKl) {
  torch::manual_seed(2);
  for (auto posterior : {Posterior::kPoint, Posterior::kMeanField, Posterior::kMNF}) {
    auto dense = make_layer(LayerGeometry::dense(6, 4), NetworkOptions(posterior));
    EXPECT_EQ(dense->forward(torch::randn({7, 6})).sizes(), (std::vector<int64_t>{7, 4}));
    auto conv = make_layer(LayerGeometry::conv2d(3, 5, 3), NetworkOptions(posterior));
    EXPECT_EQ(conv->forward(torch::randn({2, 3, 8, 9})).sizes(),
              (std::vector<int64_t>{2, 5, 6, 7}));
    for (auto* layer : {&dense, &conv}) {
      auto kl = (*layer)->kl();
      EXPECT_EQ(kl.dim(), 0);
      EXPECT_TRUE(std::isfinite(kl.item<double>())) << posterior_name(posterior);
    }
  }
}

TEST(BayesianLayers, BadInputsAndOptionsAreRefusedClearly) {
  MNFLinear dense(4, 3);
  expect_error([&] { dense->forward(torch::randn({2, 5})); },
               {"bnn::MNFLayer::forward", "'x'", "[batch, 4]", "[2, 5]"});
  expect_error([&] { dense->forward(torch::randn({2, 4}, torch::kFloat64)); },
               {"bnn::MNFLayer::forward", "'x'", "float64"});
  MeanFieldConv2d conv(2, 3, 5);
  expect_error([&] { conv->forward(torch::randn({1, 2, 3, 3})); },
               {"MeanFieldLayer::forward", "smaller than the kernel"});
  expect_error([&] { conv->forward(torch::randn({1, 3, 8, 8})); },
               {"[batch, 2, height, width]", "[1, 3, 8, 8]"});
  expect_error([] { PointLinear(0, 3); }, {"LayerGeometry::dense", "'in'"});
  expect_error([] { MeanFieldLinear(2, 3, LayerOptions().prior_variance(-1)); },
               {"'prior_variance'", "-1"});
  expect_error([] { MNFLinear(2, 3, MNFOptions().noise(MultiplicativeNoiseOptions().flow_steps_q(0))); },
               {"'flow_steps_q'"});
  expect_error([] { parse_posterior("bayes"); }, {"'bayes'", "point, mean_field, mnf"});
}

}  // namespace
}  // namespace diffeo::bnn
