/* outboxd SDK umbrella header: includes every C header of the ABI. Start with obx/plugin.h. */
#ifndef OBX_OBX_H_
#define OBX_OBX_H_

#include "obx/discovery.h"
#include "obx/export.h"
#include "obx/handler.h"
#include "obx/host_api.h"
#include "obx/message.h"
#include "obx/plugin.h"
#include "obx/types.h"

#endif /* OBX_OBX_H_ */
