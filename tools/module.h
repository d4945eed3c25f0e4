/* SPDX-License-Identifier: MIT */
#ifndef MEGALINK_TOOLS_MODULE_H
#define MEGALINK_TOOLS_MODULE_H

#include "show.h"

/* megalink-stat --module: module facts through libkmod and sysfs. */
int show_module(struct out *out, const char *name);

#endif
