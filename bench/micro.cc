// SPDX-License-Identifier: MIT
//
// bench/micro.cc - registers the C workloads of bench/workloads.c with
// Google Benchmark.  Nothing else lives here: the workloads are C.
//
//   build/bench/micro --benchmark_format=json --benchmark_min_time=0.05
//
// Preload an allocator to measure it (bench/run.py does).
#include <benchmark/benchmark.h>

#include "workloads.h"

static void run_workload(benchmark::State &state, const bench_workload *w)
{
	void *ctx = w->setup(w->arg);

	if (!ctx) {
		state.SkipWithError("kmem API absent (only under kmem)");
		return;
	}
	for (auto _ : state)
		w->run(ctx);
	w->teardown(ctx);
	state.SetItemsProcessed(state.iterations() * w->ops_per_iter);
}

int main(int argc, char **argv)
{
	for (int i = 0; i < bench_nworkloads; i++) {
		const bench_workload *w = &bench_workloads[i];
		auto *b = benchmark::RegisterBenchmark(w->name, run_workload, w);

		if (w->threads > 1)
			b->Threads(w->threads);
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
