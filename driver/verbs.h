/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_VERBS_H
#define _ML_VERBS_H

struct ml_ctx;

int ml_ioctl_query_limits(struct ml_ctx *ctx, void *arg);
int ml_ioctl_alloc_pd(struct ml_ctx *ctx, void *arg);
int ml_ioctl_destroy(struct ml_ctx *ctx, void *arg);
int ml_ioctl_reg_mr(struct ml_ctx *ctx, void *arg);
int ml_ioctl_create_cq(struct ml_ctx *ctx, void *arg);
int ml_ioctl_create_qp(struct ml_ctx *ctx, void *arg);
int ml_ioctl_connect_qp(struct ml_ctx *ctx, void *arg);
int ml_ioctl_query_qp(struct ml_ctx *ctx, void *arg);
int ml_ioctl_notify(struct ml_ctx *ctx, void *arg);

#endif /* _ML_VERBS_H */
