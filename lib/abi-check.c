/* SPDX-License-Identifier: MIT */
/*
 * abi-check: the values and layouts that <megalink/megalink.h> and the
 * kernel ABI header <linux/megalink.h> both define, one per line.  Built
 * twice by lib/Makefile, against the public header alone
 * (-DML_ABI_FROM_PUBLIC) and against the kernel ABI header alone; the
 * build fails if the two lists differ.  A macro defined by both is also
 * checked by the compiler wherever both are included (the library).
 */
#include <stddef.h>
#include <stdio.h>
#ifdef ML_ABI_FROM_PUBLIC
#include <megalink/megalink.h>
#else
#include <linux/megalink.h>
#endif

#define V(x)	 printf("%s %llu\n", #x, (unsigned long long)(x))
#define S(s)	 printf("sizeof(struct %s) %zu\n", #s, sizeof(struct s))
#define F(s, f)	 printf("struct %s.%s %zu %zu\n", #s, #f, \
			offsetof(struct s, f), sizeof(((struct s *)0)->f))

int main(void)
{
	V(ML_DEV_NAME_LEN);
	V(ML_NODE_ID_MIN);
	V(ML_NODE_ID_MAX);
	V(ML_DEV_CAP_MULTI_PORT);
	V(ML_DEV_CAP_QUERY_PORTS);
	V(ML_DEV_CAP_DATA_PLANE);
	V(ML_ACCESS_LOCAL_WRITE);
	V(ML_ACCESS_REMOTE_WRITE);
	V(ML_ACCESS_REMOTE_READ);
	V(ML_ACCESS_ALL);
	V(ML_WR_F_SIGNALED);
	V(ML_WR_F_INLINE);
	V(ML_MAX_SGE);
	V(ML_MAX_INLINE);
	V(ML_WC_F_IMM);
	V(ML_STAT_UNSPEC);
	V(ML_STAT_PAD);
	V(ML_STAT_TX_FRAMES);
	V(ML_STAT_TX_BYTES);
	V(ML_STAT_TX_ERRORS);
	V(ML_STAT_RX_FRAMES);
	V(ML_STAT_RX_BYTES);
	V(ML_STAT_TX_HELLO);
	V(ML_STAT_RX_HELLO);
	V(ML_STAT_NEIGH_FOUND);
	V(ML_STAT_NEIGH_LOST);
	V(ML_STAT_LINK_UP);
	V(ML_STAT_LINK_DOWN);
	V(ML_STAT_DROP_SHORT);
	V(ML_STAT_DROP_VERSION);
	V(ML_STAT_DROP_TYPE);
	V(ML_STAT_DROP_LENGTH);
	V(ML_STAT_DROP_MALFORMED);
	V(ML_STAT_DROP_LOOP);
	V(ML_STAT_DROP_NEIGH_FULL);
	V(ML_STAT_DROP_NOMEM);
	V(ML_STAT_RX_NOT_MINE);
	V(ML_STAT_RX_DATA);
	V(ML_STAT_TX_ACK);
	V(ML_STAT_RX_ACK);
	V(ML_STAT_TX_NAK);
	V(ML_STAT_RX_NAK);
	V(ML_STAT_RETRANSMITS);
	V(ML_STAT_TIMEOUTS);
	V(ML_STAT_RNR_NAKS);
	V(ML_STAT_DROP_CRC);
	V(ML_STAT_DROP_NO_QP);
	V(ML_STAT_DROP_SEQ);
	V(ML_STAT_TX_ZEROCOPY);
	V(__ML_STAT_MAX);
	V(ML_STAT_MAX);
	V(ML_LINK_DOWN);
	V(ML_LINK_UP);
	V(ML_REASON_NONE);
	V(ML_REASON_CARRIER);
	V(ML_REASON_NEIGH);
	V(ML_REASON_UNBIND);
	V(ML_QPS_RESET);
	V(ML_QPS_INIT);
	V(ML_QPS_RTR);
	V(ML_QPS_RTS);
	V(ML_QPS_ERROR);
	V(ML_WR_SEND);
	V(ML_WR_SEND_IMM);
	V(ML_WR_WRITE);
	V(ML_WR_WRITE_IMM);
	V(ML_WR_READ);
	V(ML_WC_SUCCESS);
	V(ML_WC_LOC_LEN_ERR);
	V(ML_WC_LOC_PROT_ERR);
	V(ML_WC_WR_FLUSH_ERR);
	V(ML_WC_REM_ACCESS_ERR);
	V(ML_WC_REM_INV_REQ_ERR);
	V(ML_WC_RETRY_EXC_ERR);
	V(ML_WC_RNR_RETRY_EXC_ERR);
	V(ML_WC_BAD_WR);
	V(ML_WC_REM_OP_ERR);
	V(ML_WC_CQ_OVERRUN_ERR);
	V(ML_WC_SEND);
	V(ML_WC_WRITE);
	V(ML_WC_READ);
	V(ML_WC_RECV);
	V(ML_WC_RECV_IMM);
	S(ml_port_attr);
	F(ml_port_attr, port_index);
	F(ml_port_attr, ifindex);
	F(ml_port_attr, mtu);
	F(ml_port_attr, link_state);
	F(ml_port_attr, carrier);
	F(ml_port_attr, mac);
	F(ml_port_attr, num_neigh);
	F(ml_port_attr, reserved);
	S(ml_sge);
	F(ml_sge, addr);
	F(ml_sge, length);
	F(ml_sge, lkey);
	S(ml_cqe);
	F(ml_cqe, wr_id);
	F(ml_cqe, status);
	F(ml_cqe, opcode);
	F(ml_cqe, flags);
	F(ml_cqe, byte_len);
	F(ml_cqe, imm);
	F(ml_cqe, qpn);
	F(ml_cqe, src_qpn);
	F(ml_cqe, reserved);
	return 0;
}
