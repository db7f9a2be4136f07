// The reference project's rotation experiment (src/rotation_flow.py) in diffeo.
//
// Truth: x ~ N((3, 1), diag(0.75^2, 3^2)), y = R(pi/3) x.
// Model: y = R(theta) (a * z + b), z ~ N(0, I), i.e. the flow
//        Transformed(StandardNormal(2), Chain{Rotation2D(theta), Shift(b), Scale(a)}),
//        started at theta = pi, a = 1, b = 0 and fitted by maximum likelihood.
// Both are Gaussians, so the fit is judged by their KL divergence in closed form.

#include "rotation_flow.h"

#include <cmath>

namespace df = diffeo;

namespace rotation_flow {

static const double kTrueTheta = M_PI / 3;
static torch::Tensor true_loc() { return torch::tensor({3.0, 1.0}, torch::kFloat64); }
static torch::Tensor true_scale() { return torch::tensor({0.75, 3.0}, torch::kFloat64); }

df::Transformed true_distribution() {
  auto base = df::Normal(true_loc(), true_scale(), /*learnable=*/false);
  return df::Transformed(base, df::Rotation2D(kTrueTheta, /*learnable=*/false));
}

double gaussian_kl(const torch::Tensor& m1, const torch::Tensor& S1, const torch::Tensor& m2,
                   const torch::Tensor& S2) {
  auto S2_inv = torch::inverse(S2);
  auto diff = (m2 - m1).unsqueeze(-1);
  auto quadratic = torch::matmul(torch::matmul(diff.t(), S2_inv), diff).squeeze();
  auto log_det_ratio = torch::logdet(S2) - torch::logdet(S1);
  const double d = static_cast<double>(m1.size(0));
  return 0.5 *
         (torch::trace(torch::matmul(S2_inv, S1)) + quadratic - d + log_det_ratio).item<double>();
}

// The law of R (a * z + b) for z ~ N(0, I): mean R b, covariance R diag(a^2) R^T.
static std::pair<torch::Tensor, torch::Tensor> rotated_gaussian(const torch::Tensor& R,
                                                                const torch::Tensor& b,
                                                                const torch::Tensor& a) {
  return {torch::matmul(R, b), torch::matmul(torch::matmul(R, torch::diag(a * a)), R.t())};
}

Report fit(const Options& options, const Progress& progress) {
  torch::manual_seed(options.seed);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);

  // The model, in float64 like the truth; forward applies Scale, Shift, then Rotation2D.
  auto rotation = df::Rotation2D(M_PI);
  auto shift = df::Shift(torch::zeros({2}, torch::kFloat64));
  auto scale = df::Scale(torch::ones({2}, torch::kFloat64));
  auto model = df::Transformed(df::StandardNormal(2), df::Chain({rotation, shift, scale}));
  model->to(torch::kFloat64);

  auto truth = true_distribution();
  truth->to(torch::kFloat64);

  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(options.learning_rate));
  double nll = 0;
  for (int64_t step = 1; step <= options.steps; ++step) {
    // Cosine decay of the learning rate: large steps to find the optimum,
    // small ones to stop the batch noise from shaking the parameters.
    const double progress_fraction = static_cast<double>(step - 1) / options.steps;
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options())
          .lr(options.learning_rate * 0.5 * (1 + std::cos(M_PI * progress_fraction)));
    torch::Tensor batch;
    {
      torch::NoGradGuard no_grad;
      batch = truth->sample(options.batch_size, {}, generator);
    }
    auto loss = -model->log_prob(batch).mean();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    nll = loss.item<double>();
    if (progress && options.report_every > 0 && step % options.report_every == 0)
      progress(step, nll);
  }

  torch::NoGradGuard no_grad;
  auto [mean, cov] = rotated_gaussian(rotation->matrix(), shift->loc(), scale->scale());
  auto R_true = df::Rotation2D(kTrueTheta)->matrix().to(torch::kFloat64);
  auto [true_mean, true_cov] = rotated_gaussian(R_true, true_loc(), true_scale());

  Report report;
  report.theta = rotation->theta().item<double>();
  for (int i = 0; i < 2; ++i) {
    report.shift[i] = shift->loc()[i].item<double>();
    report.scale[i] = scale->scale()[i].item<double>();
  }
  report.kl = gaussian_kl(mean, cov, true_mean, true_cov);
  report.final_nll = nll;
  return report;
}

}  // namespace rotation_flow
