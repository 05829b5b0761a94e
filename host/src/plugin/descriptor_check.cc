#include "plugin/descriptor_check.h"

#include <string>

namespace outboxd {

Status CheckDescriptor(const obx_plugin_descriptor& descriptor) {
  std::string problem = ::obx::validate::DescriptorProblem(descriptor);
  return problem.empty() ? Status::OK() : Status::InvalidArgument(std::move(problem));
}

}  // namespace outboxd
