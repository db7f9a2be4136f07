// The README's usage example, built against an installed diffeo.
#include <diffeo/diffeo.h>
#include <diffeo/plot/plot.h>

#include <cmath>
#include <iostream>
namespace df = diffeo;

int main() {
  // Data: a stretched Gaussian rotated by 60 degrees.  Model: y = R(theta) (a * z + b).
  auto truth = df::Transformed(
      df::Normal(torch::tensor({3.0f, 1.0f}), torch::tensor({0.75f, 3.0f}), /*learnable=*/false),
      df::Rotation2D(M_PI / 3, /*learnable=*/false));
  auto rotation = df::Rotation2D(M_PI);
  auto flow =
      df::Transformed(df::StandardNormal(2),  // Chain applies Scale, Shift, Rotation2D
                      df::Chain({rotation, df::Shift(torch::zeros(2)), df::Scale(torch::ones(2))}));

  torch::optim::Adam adam(flow->parameters(), /*lr=*/0.05);
  for (int step = 0; step < 1500; ++step) {
    auto loss = -flow->log_prob(truth->sample(128)).mean();  // maximum likelihood
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  auto y = flow->sample(100000);                          // [100000, 2]
  double nll = -flow->log_prob(y).mean().item<double>();  // = the entropy, ~3.65 nats
  std::cout << "theta " << rotation->theta().item<float>() << ", entropy " << nll << "\n";

  // diffeo::plot from the installed tree: the learned density drawn in memory.
  df::plot::Figure figure(1, 1, 320, 240);
  figure.heatmap(0, 0, df::plot::density_grid([&](const torch::Tensor& x) {
    return flow->log_prob(x);
  }, {-7, 7, -7, 7}, 40));
  const auto image = figure.render();
  std::cout << "rendered " << image.width << " x " << image.height << "\n";
  const bool drawn = image.width == 320 && image.height == 240;
  return std::isfinite(nll) && std::abs(nll - 3.65) < 0.1 && drawn ? 0 : 1;
}
