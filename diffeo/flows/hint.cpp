#include "diffeo/flows/hint.h"

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/conditional_elementwise.h"
#include "diffeo/bijectors/hierarchical_coupling.h"
#include "diffeo/bijectors/householder.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/global_seed.h"
#include "diffeo/nn/mlp.h"

namespace diffeo::flows {

namespace {

constexpr const char* kWhere = "ConditionalHINT";

// One HINT block: Chain lists the data side first, so in the density
// direction the Householder map mixes the coordinates before the coupling.
Chain hint_block(const HierarchicalCouplingOptions& coupling, uint64_t seed) {
  return Chain(
      {Householder(HouseholderOptions(coupling.dim()).seed(seed)), HierarchicalCoupling(coupling)});
}

// The authors' link from y to x: in the density direction, x <- x exp(s) + t
// with (t, s) from an MLP of the y lane's state alone.  Their clamp (FrEIA's
// atan form) bounds |s| by 5; AffineTransform's tanh form has the same bound.
constexpr double kExternalLogScaleBound = 5.0;

Bijector external_affine(int64_t x_dim, int64_t y_dim, const std::vector<int64_t>& hidden,
                         const std::string& activation) {
  nn::MLP conditioner(
      nn::MLPOptions(y_dim, 2 * x_dim).hidden(hidden).activation(activation));
  return ConditionalElementwise(x_dim, y_dim, torch::nn::AnyModule(conditioner),
                                affine_transform(kExternalLogScaleBound));
}

}  // namespace

Bijector hint_bijector(const FlowOptions& options) {
  check_options(options, "HINT");
  const int64_t layers = options.layers() > 0 ? options.layers() : 6;
  auto coupling = HierarchicalCouplingOptions(options.dim())
                      .hidden(options.hidden())
                      .activation(options.activation())
                      .context_features(options.context_features())
                      .log_scale_bound(options.log_scale_bound());
  std::vector<Bijector> blocks;
  for (int64_t i = 0; i < layers; ++i) blocks.push_back(hint_block(coupling, options.seed() + i));
  return Chain(blocks);
}

ConditionalHINTImpl::ConditionalHINTImpl(ConditionalHINTOptions options)
    : options_(std::move(options)) {
  check_positive(options_.x_dim(), "x_dim", kWhere);
  check_positive(options_.y_dim(), "y_dim", kWhere);
  check_positive(options_.layers(), "layers", kWhere);
  const bool external = options_.conditioning() == "external";
  if (!external && options_.conditioning() != "every_coupling")
    throw Error(std::string(kWhere) + ": option 'conditioning' must be \"every_coupling\" or "
                "\"external\", got " + diffeo::quoted(options_.conditioning()));
  auto or_hidden = [&](const std::vector<int64_t>& widths) {
    return widths.empty() ? options_.hidden() : widths;
  };
  GlobalSeed seeded(options_.seed());
  auto coupling = [&](int64_t dim, int64_t context, const std::vector<int64_t>& hidden) {
    return HierarchicalCouplingOptions(dim)
        .hidden(hidden)
        .activation(options_.activation())
        .min_split(options_.min_split())
        .log_scale_bound(options_.log_scale_bound())
        .context_features(context);
  };
  const int64_t x_context = external ? 0 : options_.y_dim();
  for (int64_t l = 0; l < options_.layers(); ++l) {
    const auto seed = options_.seed() + 2 * static_cast<uint64_t>(l);
    y_blocks_.push_back(register_module(
        "y_block_" + std::to_string(l),
        hint_block(coupling(options_.y_dim(), 0, or_hidden(options_.y_hidden())), seed)));
    auto x_block = hint_block(coupling(options_.x_dim(), x_context, options_.hidden()), seed + 1);
    if (external) {
      auto members = x_block->bijectors();
      members.push_back(external_affine(options_.x_dim(), options_.y_dim(),
                                        or_hidden(options_.external_hidden()),
                                        options_.activation()));
      x_block = Chain(members);
    }
    x_blocks_.push_back(register_module("x_block_" + std::to_string(l), x_block));
  }
  base_x_ = register_module("base_x", StandardNormal(options_.x_dim()));
  base_y_ = register_module("base_y", StandardNormal(options_.y_dim()));
}

void ConditionalHINTImpl::check_pair(const torch::Tensor& x, const torch::Tensor& y) const {
  check_floating(x, "x", kWhere);
  check_floating(y, "y", kWhere);
  check_event_shape(x, "x", 1, {options_.x_dim()}, kWhere);
  check_event_shape(y, "y", 1, {options_.y_dim()}, kWhere);
  if (!x.sizes().slice(0, x.dim() - 1).equals(y.sizes().slice(0, y.dim() - 1)))
    throw Error(std::string(kWhere) + ": arguments 'x' of shape " + shape_string(x.sizes()) +
                " and 'y' of shape " + shape_string(y.sizes()) + " must have the same batch shape");
}

ConditionalHINTImpl::YLane ConditionalHINTImpl::run_y_lane(const torch::Tensor& y) {
  YLane lane;
  auto state = y;
  for (auto& block : y_blocks_) {
    auto r = block->inverse_and_log_det(state);
    state = r.output;
    lane.states.push_back(state);
    lane.log_det = lane.log_det.defined() ? lane.log_det + r.log_det : r.log_det;
  }
  return lane;
}

HINTLatent ConditionalHINTImpl::encode(const torch::Tensor& x, const torch::Tensor& y) {
  check_pair(x, y);
  auto lane = run_y_lane(y);
  auto state = x;
  torch::Tensor log_det_x;
  for (size_t l = 0; l < x_blocks_.size(); ++l) {
    auto r = x_blocks_[l]->inverse_and_log_det(state, lane.states[l]);
    state = r.output;
    log_det_x = log_det_x.defined() ? log_det_x + r.log_det : r.log_det;
  }
  return {state, lane.states.back(), log_det_x, lane.log_det};
}

torch::Tensor ConditionalHINTImpl::x_from_latent(const torch::Tensor& z_x,
                                                 const std::vector<torch::Tensor>& states) {
  auto state = z_x;
  for (size_t l = x_blocks_.size(); l-- > 0;) state = x_blocks_[l]->forward(state, states[l]);
  return state;
}

std::pair<torch::Tensor, torch::Tensor> ConditionalHINTImpl::decode(const torch::Tensor& z_x,
                                                                    const torch::Tensor& z_y) {
  check_pair(z_x, z_y);
  std::vector<torch::Tensor> states(y_blocks_.size());
  auto state = z_y;
  for (size_t l = y_blocks_.size(); l-- > 0;) {
    states[l] = state;
    state = y_blocks_[l]->forward(state);
  }
  return {x_from_latent(z_x, states), state};
}

torch::Tensor ConditionalHINTImpl::log_prob(const torch::Tensor& x, const torch::Tensor& y) {
  auto latent = encode(x, y);
  return base_x_->log_prob(latent.z_x) + latent.log_det_x + base_y_->log_prob(latent.z_y) +
         latent.log_det_y;
}

torch::Tensor ConditionalHINTImpl::log_prob_y(const torch::Tensor& y) {
  check_floating(y, "y", kWhere);
  check_event_shape(y, "y", 1, {options_.y_dim()}, kWhere);
  auto lane = run_y_lane(y);
  return base_y_->log_prob(lane.states.back()) + lane.log_det;
}

torch::Tensor ConditionalHINTImpl::log_prob_x_given_y(const torch::Tensor& x,
                                                      const torch::Tensor& y) {
  auto latent = encode(x, y);
  return base_x_->log_prob(latent.z_x) + latent.log_det_x;
}

std::pair<torch::Tensor, torch::Tensor> ConditionalHINTImpl::sample_joint(
    int64_t n, c10::optional<at::Generator> generator) {
  check_positive(n, "n", kWhere);
  auto z_y = base_y_->sample(n, {}, generator);
  auto z_x = base_x_->sample(n, {}, generator);
  return decode(z_x, z_y);
}

torch::Tensor ConditionalHINTImpl::sample_posterior(const torch::Tensor& y, int64_t n,
                                                    c10::optional<at::Generator> generator) {
  check_positive(n, "n", kWhere);
  check_floating(y, "y", kWhere);
  const auto dy = options_.y_dim();
  const bool one_row =
      (y.dim() == 1 && y.size(0) == dy) || (y.dim() == 2 && y.size(0) == 1 && y.size(1) == dy);
  if (!one_row)
    throw Error(std::string(kWhere) + ": argument 'y' must be one observation of shape [" +
                std::to_string(dy) + "] or [1, " + std::to_string(dy) + "], got " +
                shape_string(y.sizes()));
  // The states [1, y_dim] broadcast over the n draws in every conditioner.
  auto lane = run_y_lane(y.reshape({1, dy}));
  return x_from_latent(base_x_->sample(n, {}, generator), lane.states);
}

}  // namespace diffeo::flows
