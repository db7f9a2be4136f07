#include "diffeo/flows/nsf.h"

#include "diffeo/core/error.h"
#include "diffeo/flows/maf.h"
#include "diffeo/flows/realnvp.h"

namespace diffeo::flows {

// The same stacks as Real NVP and MAF with the spline as inner transform.
Bijector nsf_bijector(const FlowOptions& options) {
  auto spline = FlowOptions(options).transform("spline");
  if (spline.layers() == 0) spline.layers(4);
  if (options.variant() == "coupling") return realnvp_bijector(spline);
  if (options.variant() == "autoregressive") return maf_bijector(spline);
  throw Error("NSF: argument 'variant' is '" + options.variant() +
              "'; expected 'coupling' or 'autoregressive'");
}

Flow NSF(const FlowOptions& options) { return build("nsf", options); }

}  // namespace diffeo::flows
