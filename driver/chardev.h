/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ML_CHARDEV_H
#define _ML_CHARDEV_H

struct ml_dev;

int ml_chardev_init(void);
void ml_chardev_exit(void);
int ml_chardev_add(struct ml_dev *dev);
void ml_chardev_del(struct ml_dev *dev);

#endif /* _ML_CHARDEV_H */
