// SPDX-License-Identifier: MIT
//
// megalink_torch._C: the c10d process-group backend "megalink" for
// PyTorch 1.13, a thin shim over libmegalink-coll (include/megalink/coll.h).
//
// One ProcessGroupMegalink owns one ml_coll_comm, made in the creator
// (store, rank, size, timeout) with the torch store as the rendezvous: the
// library's exchange callback is an all-gather over store set/get.
//
// Threads: the library allows one thread per communicator, so every
// operation is queued to the group's worker thread, which starts it
// (ml_coll_*_start) and waits for it (ml_coll_wait) in issue order; the
// caller gets a Work at once.  Work::wait() blocks on the Work's own
// condition variable and rethrows the library's error as a
// std::runtime_error (RuntimeError in Python) carrying ml_coll_last_error()
// of the worker; getFuture() gives DDP its future.  Arguments the library
// cannot take (GPU tensors, an unknown dtype or op, a list of several
// tensors, uneven all-to-all splits) throw at the call, naming what is wrong.
//
// Tensors: CPU only; a non-contiguous tensor is copied to a contiguous one
// for the operation and the result copied back (on the worker, through a
// detached view, so that autograd never sees it).

#include <torch/extension.h>
#include <pybind11/chrono.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <megalink/coll.h>

namespace megalink {

using Start = std::function<int(ml_coll_comm *, ml_coll_req **)>;

[[noreturn]] static void fail(const std::string &op, const std::string &what)
{
	throw std::runtime_error("megalink: " + op + ": " + what);
}

static unsigned int to_dtype(const std::string &op, const at::Tensor &t)
{
	switch (t.scalar_type()) {
	case at::kChar: return ML_COLL_INT8;
	case at::kByte: return ML_COLL_UINT8;
	case at::kInt: return ML_COLL_INT32;
	case at::kLong: return ML_COLL_INT64;
	case at::kHalf: return ML_COLL_FLOAT16;
	case at::kBFloat16: return ML_COLL_BFLOAT16;
	case at::kFloat: return ML_COLL_FLOAT32;
	case at::kDouble: return ML_COLL_FLOAT64;
	default:
		fail(op, std::string("dtype ") + c10::toString(t.scalar_type()) +
		     " is not supported (int8, uint8, int32, int64, float16, bfloat16, "
		     "float32, float64)");
	}
}

static unsigned int to_op(const std::string &op, const c10d::ReduceOp &r)
{
	switch (r.op_) {
	case c10d::ReduceOp::SUM: return ML_COLL_SUM;
	case c10d::ReduceOp::PRODUCT: return ML_COLL_PROD;
	case c10d::ReduceOp::MIN: return ML_COLL_MIN;
	case c10d::ReduceOp::MAX: return ML_COLL_MAX;
	case c10d::ReduceOp::AVG: return ML_COLL_AVG;
	default:
		fail(op, "reduce op " + std::to_string((int)r.op_) +
		     " is not supported (SUM, PRODUCT, MIN, MAX, AVG)");
	}
}

static void check_cpu(const std::string &op, const at::Tensor &t, const char *what)
{
	if (!t.device().is_cpu())
		fail(op, std::string(what) + " is on " + t.device().str() +
		     ": the megalink backend takes CPU tensors");
	if (t.is_sparse())
		fail(op, std::string(what) + " is sparse: the megalink backend takes dense tensors");
}

static at::Tensor &one(const std::string &op, std::vector<at::Tensor> &v)
{
	if (v.size() != 1)
		fail(op, std::to_string(v.size()) +
		     " tensors given: the megalink backend takes exactly one per call");
	check_cpu(op, v[0], "the tensor");
	return v[0];
}

// A contiguous tensor with @t's values (t itself when already contiguous).
static at::Tensor dense(const at::Tensor &t)
{
	return t.is_contiguous() ? t : t.contiguous();
}

// Copies @from into @to after the operation when they differ.
static void copy_back(const at::Tensor &to, const at::Tensor &from)
{
	if (!to.is_same(from))
		to.detach().copy_(from.view(to.sizes()));
}

class WorkMegalink : public c10d::Work {
public:
	WorkMegalink(int rank, c10d::OpType type, const char *title, std::string name,
		     std::vector<at::Tensor> outputs)
		: c10d::Work(rank, type, title), name_(std::move(name)),
		  outputs_(std::move(outputs)),
		  future_(c10::make_intrusive<at::ivalue::Future>(
			  c10::ListType::create(c10::TensorType::get())))
	{
	}

	std::vector<at::Tensor> result() override
	{
		return outputs_;
	}

	c10::intrusive_ptr<c10::ivalue::Future> getFuture() override
	{
		return future_;
	}

	// Called by the worker when the operation is over.
	void done(const std::string &err)
	{
		if (err.empty()) {
			finish();
			future_->markCompleted(c10::IValue(outputs_));
			return;
		}
		auto e = std::make_exception_ptr(std::runtime_error(err));
		finish(e);
		future_->setError(e);
	}

	std::string name_;
	Start start_;
	std::function<void()> after_;	// copies back, on success

private:
	std::vector<at::Tensor> outputs_;
	c10::intrusive_ptr<at::ivalue::Future> future_;
};

// The store all-gather the library calls twice during comm creation.
struct Exchange {
	c10::intrusive_ptr<c10d::Store> store;
	int rank;
	int size;
	int round;
};

static int store_exchange(void *ctx, const void *mine, void *all, size_t len, char *err)
{
	auto *x = static_cast<Exchange *>(ctx);
	std::string base = "megalink/" + std::to_string(x->round++) + "/";

	try {
		const auto *p = static_cast<const uint8_t *>(mine);
		x->store->set(base + std::to_string(x->rank), std::vector<uint8_t>(p, p + len));
		for (int i = 0; i < x->size; i++) {
			std::vector<uint8_t> v = x->store->get(base + std::to_string(i));
			if (v.size() != len) {
				snprintf(err, 256, "torch store: rank %d's blob has %zu bytes, not %zu",
					 i, v.size(), len);
				return -EPROTO;
			}
			memcpy(static_cast<uint8_t *>(all) + (size_t)i * len, v.data(), len);
		}
	} catch (const std::exception &e) {
		snprintf(err, 256, "torch store: %s", e.what());
		return -EIO;
	}
	return 0;
}

class ProcessGroupMegalink : public c10d::ProcessGroup {
public:
	ProcessGroupMegalink(const c10::intrusive_ptr<c10d::Store> &store, int rank, int size,
			     std::chrono::milliseconds timeout)
		: c10d::ProcessGroup(rank, size)
	{
		struct ml_coll_config cfg;
		Exchange x{store, rank, size, 0};

		ml_coll_config_init(&cfg);
		cfg.rank = rank;
		cfg.size = size;
		cfg.exchange = store_exchange;
		cfg.exchange_ctx = &x;
		// torch's timeout is the no-progress timeout unless
		// ML_COLL_TIMEOUT_MS says otherwise.
		if (!getenv("ML_COLL_TIMEOUT_MS") && timeout.count() > 0)
			cfg.timeout_ms = timeout.count() > UINT32_MAX ? UINT32_MAX :
					 (uint32_t)timeout.count();
		int rc = ml_coll_comm_create(&cfg, &comm_);
		if (rc < 0)
			fail("init", ml_coll_last_error());
		worker_ = std::thread([this] { run(); });
	}

	~ProcessGroupMegalink() override
	{
		{
			std::lock_guard<std::mutex> g(mu_);
			stop_ = true;
		}
		cv_.notify_all();
		worker_.join();
		ml_coll_comm_destroy(comm_);
	}

	const std::string getBackendName() const override
	{
		return "megalink";
	}

	c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor> &tensors,
						 const c10d::BroadcastOptions &opts) override
	{
		const char *op = "broadcast";
		at::Tensor &t = one(op, tensors);
		unsigned int dt = to_dtype(op, t);
		at::Tensor b = dense(t);
		int root = (int)opts.rootRank;

		return post(c10d::OpType::BROADCAST, "megalink:broadcast", op, {t},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_broadcast_start(c, b.data_ptr(), b.numel(), dt,
								   root, r);
			    }, [=] { copy_back(t, b); });
	}

	c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor> &tensors,
						 const c10d::AllreduceOptions &opts) override
	{
		const char *op = "allreduce";
		at::Tensor &t = one(op, tensors);
		unsigned int dt = to_dtype(op, t), ro = to_op(op, opts.reduceOp);
		at::Tensor b = dense(t);

		return post(c10d::OpType::ALLREDUCE, "megalink:all_reduce", op, {t},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_allreduce_start(c, b.data_ptr(), b.data_ptr(),
								   b.numel(), dt, ro, r);
			    }, [=] { copy_back(t, b); });
	}

	c10::intrusive_ptr<c10d::Work> reduce(std::vector<at::Tensor> &tensors,
					      const c10d::ReduceOptions &opts) override
	{
		const char *op = "reduce";
		at::Tensor &t = one(op, tensors);
		unsigned int dt = to_dtype(op, t), ro = to_op(op, opts.reduceOp);
		int root = (int)opts.rootRank;
		// out of place: the library's reduce reads sendbuf on every rank
		at::Tensor send = t.contiguous().clone();
		at::Tensor b = dense(t);
		bool mine = root == getRank();

		return post(c10d::OpType::REDUCE, "megalink:reduce", op, {t},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_reduce_start(c, send.data_ptr(),
								mine ? b.data_ptr() : nullptr,
								send.numel(), dt, ro, root, r);
			    }, [=] { if (mine) copy_back(t, b); });
	}

	c10::intrusive_ptr<c10d::Work> allgather(std::vector<std::vector<at::Tensor>> &outputs,
						 std::vector<at::Tensor> &inputs,
						 const c10d::AllgatherOptions &) override
	{
		const char *op = "allgather";
		at::Tensor &in = one(op, inputs);
		if (outputs.size() != 1 || (int)outputs[0].size() != getSize())
			fail(op, "the output must be one list of " + std::to_string(getSize()) +
			     " tensors (the group size)");
		std::vector<at::Tensor> outs = outputs[0];
		for (auto &o : outs) {
			check_cpu(op, o, "an output tensor");
			if (o.numel() != in.numel() || o.scalar_type() != in.scalar_type())
				fail(op, "output tensors must have the input's dtype and numel (" +
				     std::to_string(in.numel()) + ")");
		}
		unsigned int dt = to_dtype(op, in);
		at::Tensor src = dense(in);
		at::Tensor flat = at::empty({(int64_t)getSize() * in.numel()}, in.options());
		int64_t n = in.numel();

		return post(c10d::OpType::ALLGATHER, "megalink:all_gather", op, outs,
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_allgather_start(c, src.data_ptr(), flat.data_ptr(),
								   n, dt, r);
			    }, [=] {
				    for (size_t i = 0; i < outs.size(); i++)
					    copy_back(outs[i], flat.narrow(0, i * n, n));
			    });
	}

	c10::intrusive_ptr<c10d::Work> _allgather_base(at::Tensor &output, at::Tensor &input,
						       const c10d::AllgatherOptions &) override
	{
		const char *op = "_allgather_base";
		check_cpu(op, output, "the output");
		check_cpu(op, input, "the input");
		if (output.numel() != input.numel() * getSize() ||
		    output.scalar_type() != input.scalar_type())
			fail(op, "the output must have size * input's numel elements of its dtype");
		unsigned int dt = to_dtype(op, input);
		at::Tensor src = dense(input), dst = dense(output);
		at::Tensor out = output;

		return post(c10d::OpType::_ALLGATHER_BASE, "megalink:_all_gather_base", op, {output},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_allgather_start(c, src.data_ptr(), dst.data_ptr(),
								   src.numel(), dt, r);
			    }, [=] { copy_back(out, dst); });
	}

	c10::intrusive_ptr<c10d::Work> reduce_scatter(std::vector<at::Tensor> &outputs,
						      std::vector<std::vector<at::Tensor>> &inputs,
						      const c10d::ReduceScatterOptions &opts) override
	{
		const char *op = "reduce_scatter";
		at::Tensor &out = one(op, outputs);
		if (inputs.size() != 1 || (int)inputs[0].size() != getSize())
			fail(op, "the input must be one list of " + std::to_string(getSize()) +
			     " tensors (the group size)");
		std::vector<at::Tensor> flat_in;
		for (auto &t : inputs[0]) {
			check_cpu(op, t, "an input tensor");
			if (t.numel() != out.numel() || t.scalar_type() != out.scalar_type())
				fail(op, "input tensors must have the output's dtype and numel (" +
				     std::to_string(out.numel()) + ")");
			flat_in.push_back(t.reshape({-1}));
		}
		unsigned int dt = to_dtype(op, out), ro = to_op(op, opts.reduceOp);
		at::Tensor src = at::cat(flat_in);
		at::Tensor dst = dense(out);

		return post(c10d::OpType::REDUCE_SCATTER, "megalink:reduce_scatter", op, {out},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_reduce_scatter_start(c, src.data_ptr(),
									dst.data_ptr(), dst.numel(),
									dt, ro, r);
			    }, [=] { copy_back(out, dst); });
	}

	c10::intrusive_ptr<c10d::Work> _reduce_scatter_base(at::Tensor &output, at::Tensor &input,
							    const c10d::ReduceScatterOptions &opts) override
	{
		const char *op = "_reduce_scatter_base";
		check_cpu(op, output, "the output");
		check_cpu(op, input, "the input");
		if (input.numel() != output.numel() * getSize() ||
		    output.scalar_type() != input.scalar_type())
			fail(op, "the input must have size * output's numel elements of its dtype");
		unsigned int dt = to_dtype(op, output), ro = to_op(op, opts.reduceOp);
		at::Tensor src = dense(input), dst = dense(output);
		at::Tensor out = output;

		return post(c10d::OpType::_REDUCE_SCATTER_BASE, "megalink:_reduce_scatter_base", op,
			    {output}, [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_reduce_scatter_start(c, src.data_ptr(),
									dst.data_ptr(), dst.numel(),
									dt, ro, r);
			    }, [=] { copy_back(out, dst); });
	}

	c10::intrusive_ptr<c10d::Work> alltoall(std::vector<at::Tensor> &outputs,
						std::vector<at::Tensor> &inputs,
						const c10d::AllToAllOptions &) override
	{
		const char *op = "alltoall";
		if ((int)outputs.size() != getSize() || (int)inputs.size() != getSize())
			fail(op, "the input and output lists must have " +
			     std::to_string(getSize()) + " tensors (the group size)");
		int64_t n = inputs[0].numel();
		std::vector<at::Tensor> flat_in;
		for (int i = 0; i < getSize(); i++) {
			check_cpu(op, inputs[i], "an input tensor");
			check_cpu(op, outputs[i], "an output tensor");
			if (inputs[i].numel() != n || outputs[i].numel() != n ||
			    inputs[i].scalar_type() != inputs[0].scalar_type() ||
			    outputs[i].scalar_type() != inputs[0].scalar_type())
				fail(op, "every input and output tensor must have the same dtype and "
				     "numel (uneven all-to-all is not supported)");
			flat_in.push_back(inputs[i].reshape({-1}));
		}
		unsigned int dt = to_dtype(op, inputs[0]);
		at::Tensor src = at::cat(flat_in);
		at::Tensor dst = at::empty_like(src);
		std::vector<at::Tensor> outs = outputs;

		return post(c10d::OpType::ALLTOALL, "megalink:all_to_all", op, outs,
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_alltoall_start(c, src.data_ptr(), dst.data_ptr(),
								  n, dt, r);
			    }, [=] {
				    for (size_t i = 0; i < outs.size(); i++)
					    copy_back(outs[i], dst.narrow(0, i * n, n));
			    });
	}

	c10::intrusive_ptr<c10d::Work> alltoall_base(at::Tensor &output, at::Tensor &input,
						     std::vector<int64_t> &outSplits,
						     std::vector<int64_t> &inSplits,
						     const c10d::AllToAllOptions &) override
	{
		const char *op = "alltoall_base";
		check_cpu(op, output, "the output");
		check_cpu(op, input, "the input");
		if (input.numel() != output.numel() || input.numel() % getSize() ||
		    input.scalar_type() != output.scalar_type())
			fail(op, "input and output must have the same dtype and a numel divisible "
			     "by the group size");
		int64_t rows = input.dim() ? input.size(0) / getSize() : 0;
		for (auto *s : {&outSplits, &inSplits})
			for (auto v : *s)
				if (v != rows)
					fail(op, "uneven split sizes are not supported (each must be " +
					     std::to_string(rows) + ")");
		unsigned int dt = to_dtype(op, input);
		at::Tensor src = dense(input), dst = dense(output);
		at::Tensor out = output;
		int64_t n = input.numel() / getSize();

		return post(c10d::OpType::ALLTOALL_BASE, "megalink:all_to_all_single", op, {output},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_alltoall_start(c, src.data_ptr(), dst.data_ptr(),
								  n, dt, r);
			    }, [=] { copy_back(out, dst); });
	}

	c10::intrusive_ptr<c10d::Work> barrier(const c10d::BarrierOptions &) override
	{
		return post(c10d::OpType::BARRIER, "megalink:barrier", "barrier", {},
			    [](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_barrier_start(c, r);
			    }, [] {});
	}

	c10::intrusive_ptr<c10d::Work> send(std::vector<at::Tensor> &tensors, int dst,
					    int tag) override
	{
		const char *op = "send";
		at::Tensor &t = one(op, tensors);
		check_tag(op, tag);
		unsigned int dt = to_dtype(op, t);
		at::Tensor b = dense(t);

		return post(c10d::OpType::SEND, "megalink:send", op, {t},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_send_start(c, b.data_ptr(), b.numel(), dt, dst, r);
			    }, [] {});
	}

	c10::intrusive_ptr<c10d::Work> recv(std::vector<at::Tensor> &tensors, int src,
					    int tag) override
	{
		const char *op = "recv";
		at::Tensor &t = one(op, tensors);
		check_tag(op, tag);
		unsigned int dt = to_dtype(op, t);
		at::Tensor b = dense(t);

		return post(c10d::OpType::RECV, "megalink:recv", op, {t},
			    [=](ml_coll_comm *c, ml_coll_req **r) {
				    return ml_coll_recv_start(c, b.data_ptr(), b.numel(), dt, src, r);
			    }, [=] { copy_back(t, b); });
	}

	c10::intrusive_ptr<c10d::Work> recvAnysource(std::vector<at::Tensor> &, int) override
	{
		fail("recv", "a source rank is required (no receive from any source)");
	}

	// A node id per rank, for tests and logs.
	std::vector<uint32_t> nodeIds() const
	{
		std::vector<uint32_t> v;
		for (int i = 0; i < getSize(); i++)
			v.push_back(ml_coll_comm_node_id(comm_, i));
		return v;
	}

	void abort()
	{
		ml_coll_abort(comm_);
	}

private:
	static void check_tag(const char *op, int tag)
	{
		if (tag != 0)
			fail(op, "tag " + std::to_string(tag) + ": tags are not supported "
			     "(messages between two ranks match in order)");
	}

	c10::intrusive_ptr<c10d::Work> post(c10d::OpType type, const char *title,
					    const char *name, std::vector<at::Tensor> outputs,
					    Start start, std::function<void()> after)
	{
		auto w = c10::make_intrusive<WorkMegalink>(getRank(), type, title, name,
							   std::move(outputs));
		w->start_ = std::move(start);
		w->after_ = std::move(after);
		{
			std::lock_guard<std::mutex> g(mu_);
			queue_.push_back(w);
		}
		cv_.notify_one();
		return w;
	}

	// The worker: every operation in issue order, one at a time (the
	// library progresses only the oldest request anyway).
	void run()
	{
		for (;;) {
			c10::intrusive_ptr<WorkMegalink> w;
			{
				std::unique_lock<std::mutex> g(mu_);
				cv_.wait(g, [this] { return stop_ || !queue_.empty(); });
				if (queue_.empty())
					return;
				w = queue_.front();
				queue_.pop_front();
			}
			std::string err;
			ml_coll_req *req = nullptr;
			int rc = w->start_(comm_, &req);
			if (rc == 0)
				rc = ml_coll_wait(req);
			if (rc < 0) {
				// the library's message names the call ("send: peer 5 ...")
				err = std::string("megalink: ") + ml_coll_last_error();
			} else {
				try {
					w->after_();
				} catch (const std::exception &e) {
					err = "megalink: " + w->name_ + ": copying the result back: " +
					      e.what();
				}
			}
			w->start_ = nullptr;	// drop the buffers it holds
			w->after_ = nullptr;
			w->done(err);
		}
	}

	ml_coll_comm *comm_ = nullptr;
	std::thread worker_;
	std::mutex mu_;
	std::condition_variable cv_;
	std::deque<c10::intrusive_ptr<WorkMegalink>> queue_;
	bool stop_ = false;
};

static c10::intrusive_ptr<c10d::ProcessGroup>
create(const c10::intrusive_ptr<c10d::Store> &store, int rank, int size,
       const std::chrono::duration<float> &timeout)
{
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
	return c10::make_intrusive<ProcessGroupMegalink>(store, rank, size, ms);
}

} // namespace megalink

PYBIND11_MODULE(_C, m)
{
	m.doc() = "c10d process-group backend over libmegalink-coll";
	m.def("create_process_group", &megalink::create, py::arg("store"), py::arg("rank"),
	      py::arg("size"), py::arg("timeout"), py::call_guard<py::gil_scoped_release>(),
	      "Creator for torch.distributed.Backend.register_backend");
	m.def("library_version", [] { return std::string(ml_coll_version()); });
	m.def("node_ids", [](const c10::intrusive_ptr<c10d::ProcessGroup> &pg) {
		auto *p = dynamic_cast<megalink::ProcessGroupMegalink *>(pg.get());
		if (!p)
			throw std::invalid_argument("megalink: node_ids: not a megalink process group");
		return p->nodeIds();
	});
}
