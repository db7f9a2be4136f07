// Image training: the logit preprocessing in a flow spec, bits/dim against a
// hand computation, dequantised batches, sample pictures, and short trainings
// on downsampled Fashion-MNIST whose loss must fall.

#include "diffeo/train/image_training.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "diffeo/data/dequantize.h"
#include "diffeo/data/fashion_mnist.h"
#include "diffeo/distributions/normal.h"
#include "diffeo/flows/flow.h"
#include "diffeo/io/save_load.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

using testing::expect_error;

// A flow on unit-cube images of `shape` with the MAF paper's logit preprocessing.
flows::Flow unit_flow(const std::string& name, std::vector<int64_t> shape, double lambda,
                      int64_t context = 0) {
  const int64_t dim = shape[0] * shape[1] * shape[2];
  auto options = flows::FlowOptions(dim).image_shape(shape).layers(2).hidden({16}).levels(1);
  options.context_features(context);
  if (name == "nsf") options.bound(15.0);
  return flows::build(
      json{{"flow", name}, {"options", flows::to_json(options)}, {"logit", {{"lambda", lambda}}}});
}

TEST(ImageTraining, LogitPreprocessingIsTheMafPapersJacobian) {
  // A new flow is the identity in logit space, so log p(v) is the standard
  // normal at y = logit(lambda + (1 - 2 lambda) v) plus the preprocessing's
  // log-Jacobian: sum log(1 - 2 lambda) - log p - log(1 - p).
  torch::manual_seed(3);
  const double lambda = 1e-3;
  // Samples lie in the unit cube.
  auto x = unit_flow("realnvp", {1, 2, 3}, lambda)->sample(200);
  EXPECT_GE(x.min().item<double>(), 0.0);
  EXPECT_LE(x.max().item<double>(), 1.0);
  // Built in float64 so that the preprocessing's constants are exact too.
  c10::set_default_dtype(caffe2::TypeMeta::Make<double>());
  auto flow = unit_flow("realnvp", {1, 2, 3}, lambda);
  c10::set_default_dtype(caffe2::TypeMeta::Make<float>());
  auto v = torch::rand({5, 6}, torch::kFloat64);
  auto p = lambda + (1 - 2 * lambda) * v;
  auto y = torch::log(p) - torch::log1p(-p);
  auto expected = (-0.5 * y * y - 0.5 * std::log(2 * M_PI) + std::log(1 - 2 * lambda) -
                   torch::log(p) - torch::log1p(-p))
                      .sum(1);
  EXPECT_TRUE(torch::allclose(flow->log_prob(v), expected, 1e-12, 1e-10));
  // The spec keeps the preprocessing, and refuses it next to a standardisation.
  EXPECT_EQ(flow->spec().at("logit").at("lambda").get<double>(), lambda);
  auto both = flow->spec();
  both["standardize"] = {{"mean", std::vector<double>(6, 0.0)},
                         {"scale", std::vector<double>(6, 1.0)}};
  expect_error([&] { flows::build(both); }, {"give 'standardize' or 'logit', not both"});
  auto bad = flow->spec();
  bad["logit"]["lambda"] = 0.5;
  expect_error([&] { flows::build(bad); }, {"lambda must be in [0, 0.5)"});
}

TEST(ImageTraining, BitsPerDimMatchesAHandComputation) {
  torch::manual_seed(4);
  const double lambda = 1e-6;
  auto flow = unit_flow("realnvp", {1, 2, 2}, lambda);
  flow->to(torch::kFloat64);
  auto pixels = torch::randint(0, 256, {7, 1, 2, 2}, torch::kLong).to(torch::kUInt8);
  // The same dequantisation noise as bits_per_dim draws from seed 11.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(11);
  auto v = data::dequantize(pixels, generator).reshape({7, 4}).to(torch::kFloat64);
  auto p = lambda + (1 - 2 * lambda) * v;
  auto y = torch::log(p) - torch::log1p(-p);
  auto log_prob = (-0.5 * y * y - 0.5 * std::log(2 * M_PI) + std::log(1 - 2 * lambda) -
                   torch::log(p) - torch::log1p(-p))
                      .sum(1);
  // bits/dim of the 8-bit data: (-log p(v) + D log 256) / (D log 2), D = 4.
  auto per_image = (-log_prob + 4 * std::log(256.0)) / (4 * std::log(2.0));
  const auto bpd = bits_per_dim(flow, pixels, {}, 11);
  EXPECT_NEAR(bpd.mean, per_image.mean().item<double>(), 1e-6);
  EXPECT_NEAR(bpd.standard_error, per_image.std().item<double>() / std::sqrt(7.0), 1e-6);
}

TEST(ImageTraining, BatchesAreDequantisedImagesWithOneHotClasses) {
  auto pixels =
      torch::arange(8 * 4, torch::kLong).remainder(256).to(torch::kUInt8).reshape({8, 1, 2, 2});
  auto labels = torch::arange(8, torch::kLong) % 3;
  ImageBatches batches(pixels, labels, 3);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(2);
  const auto columns = batches.batch(/*step=*/1, 4, {0, 4}, /*seed=*/1, generator);
  const auto& x = columns[0];
  const auto& context = columns[1];
  ASSERT_EQ(x.sizes(), (torch::IntArrayRef{4, 4}));
  ASSERT_EQ(context.sizes(), (torch::IntArrayRef{4, 3}));
  // Each row is one image's pixels / 256 plus less than 1/256, and its
  // context is the one-hot class of that same image.
  for (int64_t i = 0; i < 4; ++i) {
    const auto image = static_cast<int64_t>(std::floor(x[i][0].item<double>() * 256)) / 4;
    EXPECT_TRUE(torch::allclose(torch::floor(x[i] * 256), pixels[image].flatten().to(x.dtype())));
    EXPECT_EQ(context[i].argmax().item<int64_t>(), image % 3);
    EXPECT_DOUBLE_EQ(context[i].sum().item<double>(), 1.0);
  }
  // A rank's shard is its rows of the same global batch, dequantised from its own stream.
  auto rank1 = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto tail = batches.batch(1, 4, {2, 2}, 1, rank1)[0];
  EXPECT_TRUE(torch::equal(torch::floor(tail * 256), torch::floor(x.narrow(0, 2, 2) * 256)));
  EXPECT_FALSE(torch::equal(tail, x.narrow(0, 2, 2)));
  expect_error([&] { ImageBatches(pixels.to(torch::kFloat32)); }, {"ImageBatches", "integer"});
  expect_error([] { train::one_hot(torch::tensor({0, 3}), 3); }, {"must lie in 0..2"});
}

TEST(ImageTraining, SamplesArePicturesAndTemperatureZeroIsTheMiddle) {
  auto flow = unit_flow("glow", {1, 4, 4}, 1e-6);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  auto images = sample_images(flow, 3, generator);
  ASSERT_EQ(images.sizes(), (torch::IntArrayRef{3, 1, 4, 4}));
  EXPECT_GE(images.min().item<double>(), 0.0);
  EXPECT_LE(images.max().item<double>(), 1.0);
  // The new flow is the identity: base 0 maps to logit^-1(0) = 1/2 exactly.
  auto middle = sample_images(flow, 2, generator, 1e-12);
  EXPECT_NEAR((middle - 0.5).abs().max().item<double>(), 0.0, 1e-6);
  expect_error([&] { sample_images(flow, 2, generator, 0.0); }, {"'temperature' must be positive"});
  auto vector_flow = flows::build("maf", flows::FlowOptions(4));
  expect_error([&] { sample_images(vector_flow, 2, generator); }, {"has no image_shape"});
}

// Samples against the flow's own density for the image architectures: for
// x ~ q, E[p(x) / q(x)] = 1 for any density p; p = N(0, 0.5^2 I) is narrower
// than q, so the ratio has a finite variance and a wrong log-det or sampler
// shows as a mean away from 1.  On [1, 2, 2] images (4 dimensions), with every
// parameter perturbed so that no layer is the identity.
class ImageFlowFit : public ::testing::TestWithParam<std::string> {};

TEST_P(ImageFlowFit, SamplesMatchTheFlowsOwnDensity) {
  torch::manual_seed(8);
  auto options = flows::FlowOptions(4).image_shape({1, 2, 2}).layers(3).hidden({8}).levels(1);
  auto flow = flows::build(GetParam(), options);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : flow->parameters()) p.add_(0.1 * torch::randn_like(p));
  }
  flow->eval();
  flow->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  auto x = flow->sample(100000, {}, at::make_generator<at::CPUGeneratorImpl>(9));
  auto log_p = (-0.5 * (x / 0.5).pow(2) - std::log(0.5) - 0.5 * std::log(2 * M_PI)).sum(1);
  auto ratio = torch::exp(log_p - flow->log_prob(x));
  const double mean = ratio.mean().item<double>();
  const double se = ratio.std().item<double>() / std::sqrt(100000.0);
  EXPECT_LT(se, 0.01);
  EXPECT_NEAR(mean, 1.0, 5 * se) << GetParam() << ": standard error " << se;
}

INSTANTIATE_TEST_SUITE_P(Flows, ImageFlowFit, ::testing::Values("glow", "nsf", "realnvp"),
                         [](const auto& info) { return info.param; });

TEST(ImageTraining, ImageFlowsSaveAndLoad) {
  auto flow = unit_flow("glow", {1, 4, 4}, 1e-6, /*context=*/3);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : flow->parameters()) p.add_(0.1 * torch::randn_like(p));
  }
  const auto path = std::filesystem::temp_directory_path() / "diffeo_image_flow_test.flow";
  io::save(flow, path.string());
  auto loaded = io::load(path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(loaded->spec(), flow->spec());
  auto v = torch::rand({5, 16});
  auto context = train::one_hot(torch::tensor({0, 1, 2, 0, 1}), 3);
  EXPECT_TRUE(torch::equal(loaded->log_prob(v, context), flow->log_prob(v, context)));
}

// A few hundred 8x8 Fashion-MNIST images (the central 24x24 pooled by 3) and 40 steps: the training
// loss falls clearly for each image model (the full runs are in docs/images.md).
class ImageTrainingRun : public ::testing::TestWithParam<std::string> {};

TEST_P(ImageTrainingRun, LossFalls) {
  auto set = data::fashion_mnist("train");
  auto crops = set.images.narrow(0, 0, 512).narrow(2, 2, 24).narrow(3, 2, 24);
  auto pixels = data::downsample_images(crops, 3);  // [512, 1, 8, 8]
  auto flow = unit_flow(GetParam(), {1, 8, 8}, 1e-6, /*context=*/10);
  ImageBatches batches(pixels, set.labels.narrow(0, 0, 512), 10);
  auto report =
      fit(flow, batches,
          FitOptions().steps(40).batch_size(32).learning_rate(3e-3).validate_every(0), {}, {});
  const auto& loss = report.train_loss;
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += loss[i] / 5, last += loss[loss.size() - 1 - i] / 5;
  EXPECT_LT(last, first - 10.0) << "first " << first << " last " << last;
  EXPECT_EQ(report.skipped_steps, 0);
}

INSTANTIATE_TEST_SUITE_P(Flows, ImageTrainingRun, ::testing::Values("maf", "nsf", "glow"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace diffeo::train
