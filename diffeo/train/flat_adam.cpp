#include "diffeo/train/flat_adam.h"

#include <cmath>
#include <set>

#include "diffeo/core/error.h"
#include "diffeo/train/adam_update.h"

namespace diffeo::train {

FlatAdam::FlatAdam(const std::vector<torch::Tensor>& parameters, FlatAdamOptions options)
    : options_(options) {
  if (!(options.learning_rate() >= 0) || !(options.beta1() >= 0 && options.beta1() < 1) ||
      !(options.beta2() >= 0 && options.beta2() < 1) || !(options.eps() > 0))
    throw Error("FlatAdam: needs learning_rate >= 0, 0 <= beta1, beta2 < 1 and eps > 0");
  if (options.hand_over_gradients_from() < 0)
    throw Error("FlatAdam: option 'hand_over_gradients_from' must be >= 0 (0 hands every group's "
                "gradients over), got " + std::to_string(options.hand_over_gradients_from()));
  // Group the distinct trainable parameters by dtype and device, in order.
  std::vector<std::vector<torch::Tensor>> members;
  std::set<const void*> seen;
  for (const auto& p : parameters) {
    if (!p.defined() || !p.requires_grad() || !seen.insert(p.unsafeGetTensorImpl()).second)
      continue;
    if (!p.is_floating_point())
      throw Error("FlatAdam: a parameter of dtype " + std::string(c10::toString(p.scalar_type())) +
                  " requires gradients; only floating-point parameters can be optimised");
    size_t g = 0;
    while (g < members.size() && (members[g][0].scalar_type() != p.scalar_type() ||
                                  members[g][0].device() != p.device()))
      ++g;
    if (g == members.size()) members.emplace_back();
    members[g].push_back(p);
  }
  if (members.empty()) throw Error("FlatAdam: no parameter requires gradients");

  torch::NoGradGuard no_grad;
  for (auto& group : members) {
    int64_t total = 0;
    for (const auto& p : group) total += p.numel();
    const auto options = group[0].options().requires_grad(false);
    Group flat{torch::empty({total}, options), torch::zeros({total}, options),
               torch::zeros({total}, options), torch::zeros({total}, options)};
    int64_t offset = 0;
    std::vector<Member> places;
    for (auto& p : group) {
      const int64_t n = p.numel();
      auto view = flat.parameters.narrow(0, offset, n).view(p.sizes());
      view.copy_(p);
      p.set_data(view);
      p.mutable_grad() = flat.gradients.narrow(0, offset, n).view(p.sizes());
      places.push_back({p, p.grad(), offset});
      offset += n;
    }
    groups_.push_back(flat);
    members_.push_back(std::move(places));
  }
}

void FlatAdam::zero_grad() {
  for (size_t g = 0; g < groups_.size(); ++g) {
    const bool hand_over = groups_[g].gradients.numel() >= options_.hand_over_gradients_from();
    for (auto& m : members_[g]) {
      if (hand_over)
        m.parameter.mutable_grad().reset();
      else if (!m.parameter.grad().is_same(m.gradient))
        m.parameter.mutable_grad() = m.gradient;
    }
    if (!hand_over) groups_[g].gradients.zero_();
  }
}

bool FlatAdam::gradients_in_buffer(size_t g) const {
  for (const auto& m : members_[g])
    if (!m.parameter.grad().is_same(m.gradient)) return false;
  return true;
}

double FlatAdam::clip_grad_norm(double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<char> in_buffer;
  double squares = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    in_buffer.push_back(gradients_in_buffer(g));
    if (in_buffer[g]) {
      const double norm = groups_[g].gradients.norm().item<double>();
      squares += norm * norm;
      continue;
    }
    for (const auto& m : members_[g])
      if (const auto& grad = m.parameter.grad(); grad.defined()) {
        const double norm = grad.norm().item<double>();
        squares += norm * norm;
      }
  }
  const double norm = std::sqrt(squares);
  if (max_norm > 0 && norm > max_norm && std::isfinite(norm)) {
    const double scale = max_norm / (norm + 1e-6);
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (in_buffer[g]) {
        groups_[g].gradients.mul_(scale);
        continue;
      }
      for (auto& m : members_[g])
        if (m.parameter.grad().defined()) m.parameter.mutable_grad().mul_(scale);
    }
  }
  return norm;
}

// Contiguous CPU float/double buffers (the groups FlatAdam makes) take the
// one-pass loop, over the whole buffer or, with the gradients handed over, over
// each parameter's part; others (CUDA, half precision) torch::optim::Adam's
// operators on the buffer, the gradients gathered into it first.  The loop and
// the operators agree to rounding: ATen's add_ fuses a multiply-add, the loop
// need not.  A parameter without a gradient (unused by the loss) takes zero.
void FlatAdam::step() {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1(), b2 = options_.beta2();
  const double step_size = options_.learning_rate() / (1 - std::pow(b1, steps_));
  const double root_bias2 = std::sqrt(1 - std::pow(b2, steps_));
  const AdamCoefficients coefficients{b1, b2, step_size, root_bias2, options_.eps()};
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    auto& g = groups_[gi];
    const bool in_buffer = gradients_in_buffer(gi);
    const auto dtype = g.parameters.scalar_type();
    if (g.parameters.is_cpu() && (dtype == torch::kFloat || dtype == torch::kDouble)) {
      AT_DISPATCH_FLOATING_TYPES(dtype, "flat_adam", [&] {
        scalar_t* p = g.parameters.data_ptr<scalar_t>();
        scalar_t* m = g.first_moment.data_ptr<scalar_t>();
        scalar_t* v = g.second_moment.data_ptr<scalar_t>();
        if (in_buffer) {
          adam_update(p, g.gradients.data_ptr<scalar_t>(), m, v, g.parameters.numel(),
                      coefficients);
          return;
        }
        for (auto& member : members_[gi]) {
          auto grad = member.parameter.grad();
          grad = grad.defined() ? grad.contiguous() : member.gradient.zero_();
          const int64_t at = member.offset;
          adam_update(p + at, grad.data_ptr<scalar_t>(), m + at, v + at, grad.numel(),
                      coefficients);
        }
      });
      continue;
    }
    if (!in_buffer)
      for (auto& member : members_[gi]) {
        const auto& grad = member.parameter.grad();
        if (grad.is_same(member.gradient)) continue;
        if (grad.defined())
          member.gradient.copy_(grad);
        else
          member.gradient.zero_();
      }
    g.first_moment.mul_(b1).add_(g.gradients, 1 - b1);
    g.second_moment.mul_(b2).addcmul_(g.gradients, g.gradients, 1 - b2);
    auto denominator = g.second_moment.sqrt().div_(root_bias2).add_(options_.eps());
    g.parameters.addcdiv_(g.first_moment, denominator, -step_size);
  }
}

void FlatAdam::restore(int64_t steps, const std::vector<torch::Tensor>& first_moments,
                       const std::vector<torch::Tensor>& second_moments) {
  if (steps < 0) throw Error("FlatAdam::restore: argument 'steps' must be >= 0");
  if (first_moments.size() != groups_.size() || second_moments.size() != groups_.size())
    throw Error("FlatAdam::restore: got moments for " + std::to_string(first_moments.size()) +
                " and " + std::to_string(second_moments.size()) + " parameter groups, the " +
                "optimizer has " + std::to_string(groups_.size()));
  for (size_t g = 0; g < groups_.size(); ++g)
    for (const auto* saved : {&first_moments[g], &second_moments[g]})
      if (!saved->defined() || !saved->sizes().equals(groups_[g].first_moment.sizes()))
        throw Error("FlatAdam::restore: group " + std::to_string(g) + " has " +
                    std::to_string(groups_[g].first_moment.numel()) +
                    " parameters but the saved moments do not match that size");
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < groups_.size(); ++g) {
    groups_[g].first_moment.copy_(first_moments[g]);
    groups_[g].second_moment.copy_(second_moments[g]);
  }
  steps_ = steps;
}

}  // namespace diffeo::train
