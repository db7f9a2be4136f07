// train::fit_toy: what `diffeo train --density` does, in one call.

#include <gtest/gtest.h>

#include <cmath>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::train {
namespace {

using testing::expect_error;

TEST(FitToy, StandardisesByThePilotSampleAndFits) {
  const auto& banana = data::toy("banana");
  const auto options = flows::FlowOptions(5).layers(1).hidden({8});
  const auto fit_options = FitOptions().steps(5).batch_size(64).validate_every(5).seed(4);
  auto a = fit_toy("maf", banana, options, fit_options);
  EXPECT_EQ(a.flow->flow_options().dim(), 2);
  EXPECT_EQ(a.report.steps, 5);
  EXPECT_EQ(a.report.skipped_steps, 0);
  EXPECT_TRUE(std::isfinite(a.report.best_validation));
  // The pilot: 10000 draws seeded seed + 2.
  const auto pilot = flows::standardization_of(data::sample("banana", 10000, 6), "pilot");
  EXPECT_EQ(a.flow->spec()["standardize"]["mean"], json(pilot.mean));
  EXPECT_EQ(a.flow->spec()["standardize"]["scale"], json(pilot.scale));
  // Seeded end to end: a second call gives the same weights and losses.
  auto b = fit_toy("maf", banana, options, fit_options);
  EXPECT_EQ(a.report.train_loss, b.report.train_loss);
  const auto pa = a.flow->parameters(), pb = b.flow->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
}

TEST(FitToy, RefusesAnEnergyTargetAndAnUnknownFlow) {
  const auto options = flows::FlowOptions(2);
  expect_error([&] { fit_toy("maf", data::toy("u1"), options, FitOptions().steps(1)); },
               {"toy_flow", "'u1'", "no sampler", "fit_reverse_kl"});
  expect_error([&] { fit_toy("flowy", data::toy("banana"), options, FitOptions().steps(1)); },
               {"unknown flow 'flowy'"});
}

}  // namespace
}  // namespace diffeo::train
