// tests/progs/cxx_new.cc - C++ allocation reaches kmem through malloc:
// operator new/delete (sized and aligned too), containers, strings.
// Compiled by tests/scripts/preload_cxx.sh with g++.
#include <malloc.h>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

struct alignas(256) Wide {
	char b[300];
};

int main()
{
	std::map<std::string, std::vector<int>> m;
	std::unordered_map<int, std::string> u;
	long sum = 0;

	for (int i = 0; i < 200000; i++) {
		std::string k = "key" + std::to_string(i % 5000);
		m[k].push_back(i);
		u[i % 7000] = std::string(i % 300, 'x');
	}
	for (auto &kv : m)
		for (int v : kv.second)
			sum += v;
	auto *w = new Wide[10];
	if (reinterpret_cast<uintptr_t>(w) % 256) {
		std::puts("FAIL: aligned new");
		return 1;
	}
	delete[] w;
	auto up = std::make_unique<Wide>();
	if (reinterpret_cast<uintptr_t>(up.get()) % 256) {
		std::puts("FAIL: aligned new");
		return 1;
	}
	int *ip = new int[1000];
	// Sized delete is fine: operator delete(void*, size_t) frees.
	::operator delete(static_cast<void *>(new char[100]), std::size_t(100));
	delete[] ip;
	// A block from new must be one of kmem's (malloc_usable_size knows it).
	auto *big = new std::vector<double>(1 << 20);
	if (malloc_usable_size(big->data()) < (8u << 20)) {
		std::puts("FAIL: usable size");
		return 1;
	}
	delete big;
	try {
		auto *huge = new char[(std::size_t)1 << 60];
		std::printf("FAIL: new of 2^60 bytes = %p\n", (void *)huge);
		return 1;
	} catch (const std::bad_alloc &) {
	}
	std::printf("%zu keys, sum %ld, %zu strings\n", m.size(), sum, u.size());
	return 0;
}
