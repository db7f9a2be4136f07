#include "diffeo/train/flow_objectives.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/distributed/collectives.h"
#include "diffeo/train/evaluate.h"

namespace diffeo::train {

MaximumLikelihood::MaximumLikelihood(Distribution model)
    : MaximumLikelihood(model.is_empty() ? nullptr : model.ptr(),
                        [model](const torch::Tensor& x, const torch::Tensor& context) mutable {
                          return model->log_prob(x, context);
                        }) {
  distribution_ = model;
}

MaximumLikelihood::MaximumLikelihood(std::shared_ptr<torch::nn::Module> module, LogDensity log_prob)
    : module_(std::move(module)), log_prob_(std::move(log_prob)) {
  if (!module_) throw Error("fit: argument 'model' is empty");
}

MaximumLikelihood& MaximumLikelihood::validate_on(torch::Tensor x, torch::Tensor context,
                                                  int64_t chunk_rows) {
  check_positive(chunk_rows, "chunk_rows", "MaximumLikelihood::validate_on");
  if (x.defined() && context.defined() && context.size(0) != x.size(0))
    throw Error("fit: the validation context has " + std::to_string(context.size(0)) +
                " rows but the validation set has " + std::to_string(x.size(0)));
  validation_ = std::move(x);
  validation_context_ = std::move(context);
  chunk_rows_ = chunk_rows;
  return *this;
}

torch::Tensor MaximumLikelihood::loss(const Batch& batch, at::Generator&) {
  return -batch.mean(log_prob_(batch.column(0), batch.column(1)));
}

LossSum MaximumLikelihood::validation_sum(int rank, int world_size) {
  if (!validation_.defined() || validation_.size(0) == 0) return {NAN, 0};
  const auto part = distributed::shard(validation_.size(0), rank, world_size);
  if (part.rows == 0) return {0, 0};
  const auto x = validation_.narrow(0, part.offset, part.rows);
  const auto context = validation_context_.defined()
                           ? validation_context_.narrow(0, part.offset, part.rows)
                           : torch::Tensor();
  if (!distribution_.is_empty())
    return {-log_prob_in_chunks(distribution_, x, chunk_rows_, context).sum().item<double>(),
            part.rows};
  c10::InferenceMode inference;
  const auto log_prob = in_chunks(part.rows, chunk_rows_, [&](int64_t start, int64_t rows) {
    return log_prob_(x.narrow(0, start, rows),
                     context.defined() ? context.narrow(0, start, rows) : torch::Tensor())
        .to(torch::kFloat64);
  });
  return {-log_prob.sum().item<double>(), part.rows};
}

ReverseKL::ReverseKL(Distribution model, Target target_log_prob, uint64_t validation_seed,
                     int64_t validation_draws)
    : model_(std::move(model)),
      target_(std::move(target_log_prob)),
      validation_seed_(validation_seed),
      validation_draws_(validation_draws) {
  if (model_.is_empty()) throw Error("fit: argument 'model' is empty");
  if (!target_) throw Error("fit_reverse_kl: argument 'target_log_prob' is empty");
  if (validation_draws_ < 0)
    throw Error("fit_reverse_kl: argument 'validation_draws' must be >= 0 (0: no validation)");
}

torch::Tensor ReverseKL::loss(const Batch& batch, at::Generator& generator) {
  auto draws = model_->sample_and_log_prob(batch.rows, {}, generator);
  return batch.mean(draws.log_prob - target_(draws.sample));
}

LossSum ReverseKL::validation_sum(int rank, int) {
  if (validation_draws_ == 0) return {NAN, 0};
  if (rank != 0) return {0, 0};  // one stream of draws, whatever the ranks
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(validation_seed_);
  auto draws = model_->sample_and_log_prob(validation_draws_, {}, generator);
  const auto losses = (draws.log_prob - target_(draws.sample)).to(torch::kFloat64);
  return {losses.sum().item<double>(), validation_draws_};
}

}  // namespace diffeo::train
