#include "diffeo/bnn/elbo_objective.h"

#include <algorithm>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::bnn {

ElboObjective::ElboObjective(BayesianNet net, LogLikelihood likelihood, int64_t data_size,
                             int64_t kl_warmup_steps)
    : net_(std::move(net)),
      likelihood_(std::move(likelihood)),
      data_size_(data_size),
      kl_warmup_steps_(kl_warmup_steps) {
  const std::string where = "bnn::ElboObjective";
  if (net_.is_empty()) throw Error(where + ": argument 'net' is empty");
  if (!likelihood_) throw Error(where + ": argument 'likelihood' is empty");
  check_positive(data_size_, "data_size", where);
  if (kl_warmup_steps_ < 0) throw Error(where + ": argument 'kl_warmup_steps' must be >= 0");
}

double ElboObjective::kl_weight(int64_t step) const {
  return kl_warmup_steps_ > 0
             ? std::min(1.0, static_cast<double>(step) / static_cast<double>(kl_warmup_steps_))
             : 1.0;
}

torch::Tensor ElboObjective::loss(const train::Batch& batch, at::Generator&) {
  auto nll = -batch.mean(likelihood_(net_->forward(batch.column(0)), batch.column(1)));
  auto kl = net_->kl();
  // elbo()'s loss, with this rank's share of the KL (1 in one process).
  terms_ = {nll + kl_weight(batch.step) * batch.share() * kl / static_cast<double>(data_size_), nll,
            kl};
  return terms_.loss;
}

}  // namespace diffeo::bnn
