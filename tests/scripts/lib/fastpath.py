#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/scripts/lib/fastpath.py - the machine code of kmem's fast paths.

Owns the analysis that tests/scripts/fastpath_code.sh checks and that
bin/gen-fastpath-doc writes into docs/fastpath.md, so that the two always
read the code the same way:

  - a function's instructions (objdump) between its symbol and its end;
  - its hit paths: every path from the entry to a `ret` or to a tail jump
    to a function that is not a *_slow half (calloc ends in memset), never
    through a jump to a *_slow half; a path that runs through an rseq
    critical section is an rseq hit path, one that runs through none is a
    per-thread one, and each kind is measured by its longest path;
  - the rseq critical-section descriptors of section __rseq_cs (version,
    flags, start_ip, post_commit_offset, abort_ip), read from the ELF file
    with their dynamic relocations applied, and the bytes before each
    abort handler.

  fastpath.py check LIB BOUNDS   assert (BOUNDS: lines "func mode max end")
  fastpath.py doc LIB DOC        rewrite DOC's generated blocks in place
  fastpath.py producer LIB       the compiler and flags of preload/malloc.c

x86-64 only (the rseq sections are).  Needs objdump and readelf (binutils).
"""
import re
import struct
import subprocess
import sys

RSEQ_SIG = 0x53053053
UD1_PREFIX = bytes([0x0F, 0xB9, 0x3D])	# ud1 disp32(%rip),%edi
HIT_FUNCS = ("malloc", "free", "calloc")
# rseq sections per function: free has two pushes, the reuse order's
# (core/percpu.h) and KMEM_REUSE=lifo's, chosen by a test before either.
SECTIONS = {"free": 2}


# ---- the ELF file ----

class Elf:
	def __init__(self, path):
		self.path = path
		with open(path, "rb") as f:
			self.data = f.read()
		d = self.data
		if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
			raise SystemExit("%s: not a little-endian ELF64 file" % path)
		shoff, = struct.unpack_from("<Q", d, 0x28)
		shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
		raw = []
		for i in range(shnum):
			raw.append(struct.unpack_from("<IIQQQQIIQQ", d,
						      shoff + i * shentsize))
		strtab_off = raw[shstrndx][4]
		self.sections = []
		for (name, typ, flags, addr, off, size, link, info, align,
		     entsize) in raw:
			self.sections.append({
				"name": self._cstr(strtab_off + name),
				"type": typ, "addr": addr, "offset": off,
				"size": size, "link": link, "entsize": entsize})
		self.relocs = {}	# offset -> (type, sym, addend)
		for s in self.sections:
			if s["type"] == 4:	# SHT_RELA
				for i in range(s["size"] // 24):
					off, info, add = struct.unpack_from(
						"<QQq", d, s["offset"] + 24 * i)
					self.relocs[off] = (info & 0xffffffff,
							    info >> 32, add)
		self.tls_syms = {}	# TLS offset -> name (from .symtab)
		for s in self.sections:
			if s["name"] != ".symtab":
				continue
			names = self.sections[s["link"]]["offset"]
			for i in range(s["size"] // 24):
				nm, info, other, shndx, value, size = \
					struct.unpack_from("<IBBHQQ", d,
							   s["offset"] + 24 * i)
				if info & 0xf == 6:	# STT_TLS
					self.tls_syms[value] = self._cstr(names + nm)

	def _cstr(self, off):
		end = self.data.index(b"\0", off)
		return self.data[off:end].decode()

	def section(self, name):
		for s in self.sections:
			if s["name"] == name:
				return s
		return None

	def read(self, addr, n):
		for s in self.sections:
			if (s["type"] != 8 and s["addr"] <= addr and
			    addr + n <= s["addr"] + s["size"] and s["addr"]):
				o = s["offset"] + addr - s["addr"]
				return self.data[o:o + n]
		return None

	def quad(self, addr):
		"""A 64-bit word as the dynamic loader leaves it."""
		r = self.relocs.get(addr)
		if r and r[0] == 8:	# R_X86_64_RELATIVE
			return r[2] & 0xffffffffffffffff
		return struct.unpack("<Q", self.read(addr, 8))[0]

	def rseq_descriptors(self):
		s = self.section("__rseq_cs")
		if not s:
			return []
		out = []
		for a in range(s["addr"], s["addr"] + s["size"], 32):
			ver, flags = struct.unpack("<II", self.read(a, 8))
			out.append({"addr": a, "version": ver, "flags": flags,
				    "start": self.quad(a + 8),
				    "len": self.quad(a + 16),
				    "abort": self.quad(a + 24)})
		return out


# Tail jumps that leave the fast path for an out-of-line half: the slow
# halves, and the report of a damaged free tag.
SLOW_TARGET = re.compile(r"(_slow|_bad_tag)$")


def run(*cmd):
	return subprocess.run(cmd, check=True, capture_output=True,
			      text=True).stdout


def dynamic_symbols(lib):
	"""name -> (address, size) of the defined dynamic symbols."""
	out = {}
	for line in run("nm", "-D", "-S", "--defined-only", lib).splitlines():
		f = line.split()
		if len(f) == 4:
			out[f[3].split("@")[0]] = (int(f[0], 16), int(f[1], 16))
	return out


INSN_RE = re.compile(r"^\s*([0-9a-f]+):\t(.*)$")
TARGET_RE = re.compile(r"^([0-9a-f]+) <([^>]*)>$")
COMMENT_RE = re.compile(r"\s+# ([0-9a-f]+) <([^>]*)>$")


_whole = {}


def disassemble(lib, start, end):
	"""Instructions in [start, end), from one disassembly of the whole
	file (objdump starts at each symbol, so it never decodes from the
	middle of an instruction)."""
	if lib not in _whole:
		_whole[lib] = parse(run("objdump", "-d", "--no-show-raw-insn",
					lib))
	return [i for i in _whole[lib] if start <= i["addr"] < end]


def parse(text):
	insns = []
	for line in text.splitlines():
		m = INSN_RE.match(line)
		if not m:
			continue
		body = m.group(2).rstrip()
		insn = {"addr": int(m.group(1), 16), "ref": None, "refsym": None}
		c = COMMENT_RE.search(body)
		if c:
			insn["ref"] = int(c.group(1), 16)
			insn["refsym"] = c.group(2)
			body = body[:c.start()]
		parts = body.split(None, 1)
		insn["mnem"] = parts[0] if parts else ""
		insn["ops"] = parts[1].strip() if len(parts) > 1 else ""
		insn["target"] = insn["tsym"] = None
		if insn["mnem"].startswith("j"):
			t = TARGET_RE.match(insn["ops"])
			if t:
				insn["target"] = int(t.group(1), 16)
				insn["tsym"] = t.group(2)
		insns.append(insn)
	return insns


# ---- one function ----

class Function:
	def __init__(self, elf, lib, name, addr, size, descs):
		self.name, self.start, self.end = name, addr, addr + size
		self.insns = disassemble(lib, self.start, self.end)
		self.index = {i["addr"]: n for n, i in enumerate(self.insns)}
		self.descs = [d for d in descs
			      if self.start <= d["start"] < self.end]
		self.elf = elf
		self.paths = self._hit_paths()

	def inside(self, a):
		return self.start <= a < self.end

	def _hit_paths(self):
		"""[(instruction indexes, end)], end "ret" or a tail target."""
		paths, stack = [], [(0, [])]
		while stack:
			n, path = stack.pop()
			while True:
				if n >= len(self.insns) or n in path:
					break	# ran off the end, or a loop
				path = path + [n]
				i = self.insns[n]
				m = i["mnem"]
				if m.startswith("ret"):
					paths.append((path, "ret"))
					break
				if m.startswith("j") and i["target"] is None:
					break	# indirect: not followed
				if m.startswith("jmp"):
					t = i["target"]
					if self.inside(t):
						n = self.index.get(t, len(self.insns))
						continue
					if not SLOW_TARGET.search(i["tsym"]):
						paths.append((path, i["tsym"]))
					break
				if m.startswith("j"):
					t = i["target"]
					if self.inside(t) and t in self.index:
						stack.append((self.index[t], path))
					n += 1
					continue
				n += 1
		return paths

	def in_section(self, n):
		a = self.insns[n]["addr"]
		return any(d["start"] <= a < d["start"] + d["len"]
			   for d in self.descs)

	def committed(self, n):
		"""Is instruction n the commit of a section (its last one)?"""
		a = self.insns[n]["addr"]
		nxt = self.insns[n + 1]["addr"] if n + 1 < len(self.insns) \
			else self.end
		return any(a < d["start"] + d["len"] <= nxt for d in self.descs)

	def path_mode(self, path):
		"""rseq: the path commits a section; thread: it leaves the
		section at its first test (cpu_id < 0: the thread has no rseq
		registration, which is what the per-thread mode is), then gets
		through the thread cache.  Every fast path tries rseq first.
		Paths that leave the section later (an empty stack in rseq
		mode) and then find a thread cache are not a real mode."""
		if any(self.committed(n) for n in path):
			return "rseq"
		inside = [n for n in path if self.in_section(n)]
		first_j = next((n for n in inside
				if self.insns[n]["mnem"].startswith("j")), None)
		if first_j is not None and first_j + 1 in path and \
		   self.in_section(first_j + 1):
			return "late"
		return "thread"

	def hit_path(self, mode):
		"""The longest hit path of a mode: (indexes, end) or None."""
		best = None
		for path, end in self.paths:
			if self.path_mode(path) != mode:
				continue
			if best is None or len(path) > len(best[0]):
				best = (path, end)
		return best

	def hit_lengths(self, mode):
		"""Shortest and longest hit path of a mode, or None."""
		n = [len(p) for p, e in self.paths if self.path_mode(p) == mode]
		return (min(n), max(n)) if n else None

	def slow_block(self):
		"""Indexes of the block that tail-jumps to the slow half."""
		for n, i in enumerate(self.insns):
			if (i["mnem"].startswith("jmp") and i["tsym"] and
			    i["tsym"].endswith("_slow")):
				first = n
				while first > 0 and not self._block_start(first):
					first -= 1
				return list(range(first, n + 1)), i["tsym"]
		return None, None

	def _block_start(self, n):
		a = self.insns[n]["addr"]
		prev = self.insns[n - 1]["mnem"]
		targeted = any(i["target"] == a for i in self.insns)
		return targeted or prev.startswith(("jmp", "ret", "nop"))


# ---- the checks ----

def check(lib, bounds_text):
	elf = Elf(lib)
	descs = elf.rseq_descriptors()
	syms = dynamic_symbols(lib)
	fails = []

	def fail(msg):
		fails.append(msg)
		print("FAIL: " + msg)

	bounds = []
	for line in bounds_text.splitlines():
		f = line.split("#")[0].split()
		if f:
			bounds.append((f[0], f[1], int(f[2]), f[3]))
	funcs = {}
	for name in HIT_FUNCS:
		if name not in syms:
			fail("%s is not exported" % name)
			continue
		fn = funcs[name] = Function(elf, lib, name, *syms[name], descs)
		bad = [i for i in fn.insns
		       if (re.match(r"(lock|xchg|cmpxchg|xadd|call)", i["mnem"]) or
			   i["mnem"].startswith("lock")) and
		       not (i["mnem"] == "xchg" and i["ops"] == "%ax,%ax")]
		for i in bad:
			fail("%s has %s at 0x%x" % (name, i["mnem"], i["addr"]))
		if not bad:
			print("%s: %d instructions, no lock, no atomic, no call" %
			      (name, len(fn.insns)))
		if fn.slow_block()[0] is None:
			fail("%s does not tail-jump to a *_slow half" % name)
		want = SECTIONS.get(name, 1)
		if len(fn.descs) != want:
			fail("%s holds %d rseq critical sections, not %d" %
			     (name, len(fn.descs), want))
	for name, mode, most, end in bounds:
		fn = funcs.get(name)
		if not fn:
			continue
		hit = fn.hit_path(mode)
		if not hit:
			fail("%s: no %s hit path (no path to a return that %s "
			     "an rseq section)" % (name, mode, "runs through"
						  if mode == "rseq" else "avoids"))
			continue
		n, got_end = len(hit[0]), hit[1]
		end_ok = got_end == end or got_end.startswith(end + "@")
		if n > most or not end_ok:
			fail("%s (%s mode): %d instructions on the hit path, ending "
			     "in %s; the bound is %d, ending in %s" %
			     (name, mode, n, got_end, most, end))
		else:
			print("%s (%s mode): %d instructions on the hit path "
			      "(bound %d), then %s" % (name, mode, n, most,
						       got_end))
	fails += check_rseq(elf, lib, descs)
	return 1 if fails else 0


def check_rseq(elf, lib, descs):
	"""Every descriptor: a section inside one function, which stores the
	descriptor's own address into rseq_cs right before its start, and an
	abort handler in __rseq_failure right after the signature that
	jumps back to that store."""
	fails = []
	fsec = elf.section("__rseq_failure")
	if not descs or not fsec:
		print("FAIL: no rseq critical sections in %s" % lib)
		return ["none"]
	lo, hi = fsec["addr"], fsec["addr"] + fsec["size"]
	sigs = len(re.findall(rb"\x0f\xb9\x3d" + struct.pack("<I", RSEQ_SIG),
			      elf.read(lo, hi - lo)))
	for d in descs:
		what = "rseq_cs at 0x%x (section 0x%x+%d, abort 0x%x)" % (
			d["addr"], d["start"], d["len"], d["abort"])
		before = elf.read(d["abort"] - 7, 7) if lo + 7 <= d["abort"] < hi \
			else None
		problems = []
		if d["version"] != 0 or d["flags"] != 0:
			problems.append("version/flags not 0")
		if not before:
			problems.append("abort handler outside __rseq_failure")
		elif (before[:3] != UD1_PREFIX or
		      struct.unpack("<I", before[3:])[0] != RSEQ_SIG):
			problems.append("abort handler not right after the "
					"signature 0x%x" % RSEQ_SIG)
		if not 0 < d["len"] < 256:
			problems.append("section length %d" % d["len"])
		if not problems:
			ab = disassemble(lib, d["abort"], d["abort"] + 5)
			code = disassemble(lib, max(d["start"] - 64, 0),
					   d["start"] + 1)
			pre = [i for i in code if i["addr"] < d["start"]][-2:]
			if (not ab or not ab[0]["mnem"].startswith("jmp") or
			    not pre or ab[0]["target"] != pre[0]["addr"]):
				problems.append("abort handler does not jump back "
						"to the store of rseq_cs")
			elif not (pre[0]["mnem"] == "lea" and
				  pre[0]["ref"] == d["addr"] and
				  pre[1]["mnem"] == "mov" and
				  re.match(r"%rax,(%fs:)?0x8\(", pre[1]["ops"])):
				problems.append("the section does not store its "
						"own descriptor into rseq_cs "
						"right before its start")
		for p in problems:
			print("FAIL: %s: %s" % (what, p))
			fails.append(p)
	if sigs != len(descs):
		print("FAIL: %d rseq_cs descriptors but %d signed abort handlers"
		      % (len(descs), sigs))
		fails.append("count")
	if not fails:
		print("rseq: %d critical sections, each registering its own "
		      "descriptor, each abort handler right after the "
		      "signature and jumping back to the registration" %
		      len(descs))
	return fails


# ---- the listings of docs/fastpath.md ----

# Comments for the listings, by what an instruction says (first match).
NOTES = [
	(r"perturb_byte", "mallopt(M_PERTURB) set? then the slow half"),
	(r"^cmp +\$0x8000,", "size > 32 KiB: not a slab class"),
	(r"^mul ", "n * size (calloc)"),
	(r"^seto ", "overflowed?"),
	(r"kmalloc_size_index", "class = kmalloc_size_index[(size + 7) >> 3]"),
	(r"@gottpoff", "TLS offset of pcpu_thread_region"),
	(r"^mov +%fs:\(%r\w+\),%r\w+$", "this thread's region (fallback mode)"),
	(r"^jne +\.thread_mode", "set only in the fallback mode"),
	(r"^cmpl +\$0x2,pcpu\(", "pcpu.mode == PCPU_RSEQ?"),
	(r"pcpu\+0x10\(", "pcpu.rseq_off"),
	(r"pcpu\+0x18\(", "pcpu.idx_off: mm_cid (or cpu_id) in the area"),
	(r"^lea +0x8\(,%r\w+,8\)", "hdr = PCPU_HDR_OFF + 8 * class"),
	(r"^add +%fs:0x0,", "rs = this thread's rseq area (glibc's)"),
	(r"^lea +\.Lcs\(", "this section's descriptor (__rseq_cs)"),
	(r"^mov +%rax,0x8\(%r\w+\)$", "rs->rseq_cs = &descriptor: the only "
	 "store to the area"),
	(r"^cmpl +\$0x0,0x4\(", "cpu_id < 0: this thread is not registered"),
	(r"^cmp +\$0x100,", "index beyond KMEM_NR_CPUS regions?"),
	(r"^shl +\$0x12,", "region = cpu_regions + index * 256 KiB"),
	(r"^cmpl +\$0x0,\(%rax\)", "region->locked by a remote drain?"),
	(r"^mov +\(%r\w+,%r\w+,1\),%eax$", "index = rs->mm_cid (or cpu_id)"),
	(r"^mov +\(%rax,%r\w+,1\),%\w+$", "cur = hdr[class].cur"),
	(r"^cmp +0x4\(%rax,%r\w+,1\),", "cur >= cap: full (a debug class "
	 "has cap 0)"),
	(r"^cmp +%rdi,-0x8\(", "p freed last here? a double free"),
	(r"^cmp +\(%r\w+,%r\w+,8\),%rdi$", "p freed last here? a double free"),
	(r"^cmp +0xc\(%r\w+\),%eax$", "cur >= cap: full"),
	(r"section_map", "the section table"),
	(r"^shr +\$0x1a,", "64 MiB section number"),
	(r"^cmp +\$0x1fffff,", "beyond the 47-bit address space?"),
	(r"^and +\$0xfffffffffc000000,", "section base"),
	(r"^and +\$0xfffc0,", "page = base + (offset >> 12) * 64"),
	(r"^and +\$0x20,", "PG_tail: a later page of its slab?"),
	(r"^and +\$0x8,", "PG_slab? (page runs, free pages: slow)"),
	(r"^imul +%r\w+,%r\w+$", ""),
	(r"^shr +\$0x20,", "idx = off * reciprocal_size >> 32"),
	(r"^js ", "kmalloc_class -1: a kmem_cache_create cache"),
	(r"memset", "calloc: zero the object (a tail call)"),
	(r"^jmp +\w+_slow$", "the out-of-line slow half"),
	(r"^mov +\(%rsp\),%rsi$", "the caller's address (debug call sites)"),
	(r"^mov +0x10\(%rsp\),%rdx$", "the caller's address (debug call sites)"),
	(r"^ud1 +0x53053053", "RSEQ_SIG, which the kernel checks"),
	(r"^jmp +\.Lretry$", "store rseq_cs again, and start over"),
]


def render(fn, elf, n, labels):
	"""One instruction as the listings show it."""
	i = fn.insns[n]
	ops = i["ops"]
	if i["target"] is not None:
		if i["target"] in labels:
			ops = labels[i["target"]]
		else:
			ops = i["tsym"].split("@")[0] if not fn.inside(
				i["target"]) else "0x%x" % i["target"]
	elif i["ref"] is not None and "(%rip)" in ops:
		ref = i["ref"]
		name = i["refsym"]
		desc = [d for d in fn.descs if d["addr"] == ref]
		rel = elf.relocs.get(ref)
		if desc:
			name = ".Lcs"
		elif rel and rel[0] == 18 and rel[2] in elf.tls_syms:
			name = elf.tls_syms[rel[2]] + "@gottpoff"
		ops = re.sub(r"-?0x[0-9a-f]+\(%rip\)", name + "(%rip)", ops)
	text = "%-6s %s" % (i["mnem"], ops) if ops else i["mnem"]
	return text


def note_of(text):
	for pat, note in NOTES:
		if re.search(pat, text):
			return note
	return ""


def listing(fn, elf, idxs, labels, marks, commits):
	"""Lines of a listing of fn's instructions idxs (in this order)."""
	out = []
	addrs = [fn.insns[n]["addr"] for n in idxs]
	wanted = {fn.insns[n]["target"] for n in idxs}
	for k, n in enumerate(idxs):
		i = fn.insns[n]
		a = i["addr"]
		if a in marks:
			out.append(marks[a])
		if a in labels and (a in wanted or k == 0 or
				    n != idxs[k - 1] + 1):
			out.append(labels[a] + ":")
		text = render(fn, elf, n, labels)
		note = note_of(text)
		nxt = idxs[k + 1] if k + 1 < len(idxs) else None
		if i["mnem"].startswith("j") and i["mnem"] != "jmp" and \
		   nxt is not None and nxt != n + 1:
			note = (note + "; " if note else "") + "taken here"
		if k + 1 < len(addrs) and addrs[k + 1] in commits:
			note = (note + "; " if note else "") + "the commit store"
		out.append(("  %-34s ; %s" % (text, note)) if note
			   else "  " + text)
	return out


def function_labels(fn):
	labels = {}
	slow, _ = fn.slow_block()
	if slow:
		labels[fn.insns[slow[0]]["addr"]] = ".slow"
	k = 1
	for i in fn.insns:
		t = i["target"]
		if t is None or not fn.inside(t) or t in labels:
			continue
		prev = fn.insns[fn.index[t] - 1] if fn.index.get(t) else None
		if prev and prev["mnem"].startswith(("jmp", "ret", "nop")) and \
		   i["mnem"] == "jne" and ".thread_mode" not in labels.values():
			labels[t] = ".thread_mode"
		else:
			labels[t] = "%d" % k
			k += 1
	# Local numeric labels are written "1f"/"1b" by the branches.
	return labels


def blocks(lib):
	elf = Elf(lib)
	descs = elf.rseq_descriptors()
	syms = dynamic_symbols(lib)
	out = {}
	counts = []
	for name in HIT_FUNCS:
		fn = Function(elf, lib, name, *syms[name], descs)
		labels = function_labels(fn)
		marks = {}
		commits = {d["start"] + d["len"] for d in fn.descs}
		for d in fn.descs:
			marks[d["start"]] = (".Lstart:%s; ---- rseq critical "
					     "section ----" % (" " * 27))
			marks[d["start"] + d["len"]] = (".Lcommit:%s; ---- end of "
							"the section ----" %
							(" " * 26))
			pre = fn.index.get(d["start"])
			if pre:
				marks[fn.insns[pre - 2]["addr"]] = ".Lretry:"
		rseq, thread = fn.hit_path("rseq"), fn.hit_path("thread")
		counts.append((name, fn.hit_lengths("rseq"),
			       fn.hit_lengths("thread"),
			       rseq[1].split("@")[0] if rseq else "-"))
		slow, _ = fn.slow_block()
		if rseq:
			idxs = rseq[0] + [n for n in (slow or [])
					  if n not in rseq[0]]
			out[name + ".rseq"] = code_block(fn, elf, idxs, labels,
							 marks, commits)
		if thread:
			common = 0
			while (rseq and common < len(thread[0]) and
			       common < len(rseq[0]) and
			       thread[0][common] == rseq[0][common]):
				common += 1
			out[name + ".thread"] = code_block(fn, elf,
							   thread[0][common:],
							   labels, marks, commits)
		if name == "malloc" and fn.descs:
			d = fn.descs[0]
			ab = disassemble(lib, d["abort"] - 7, d["abort"] + 5)
			lines = []
			for i in ab:
				if i["addr"] == d["abort"]:
					lines.append(".Labort:")
				ops = ".Lretry" if i["mnem"].startswith("jmp") \
					else i["ops"].split("(%rip)")[0] + "(%rip),%edi"
				text = "%-6s %s" % (i["mnem"], ops)
				lines.append("  %-34s ; %s" % (text, note_of(text)))
			out["abort"] = "```\n" + "\n".join(lines) + "\n```"
	def span(lh):
		if not lh:
			return "none"
		return "%d" % lh[0] if lh[0] == lh[1] else "%d to %d" % lh

	rows = ["| function | rseq mode | per-thread mode | then |",
		"|---|---|---|---|"]
	for name, r, t, end in counts:
		rows.append("| `%s` | %s | %s | `%s` |" % (name, span(r),
							  span(t), end))
	out["counts"] = "\n".join(rows)
	out["producer"] = "`%s`, x86-64." % producer(lib)
	return out


def code_block(fn, elf, idxs, labels, marks, commits):
	lines = listing(fn, elf, idxs, labels, marks, commits)
	# Numeric labels: "1f" forward, "1b" backward, as in gas.
	seen = set()
	fixed = []
	for line in lines:
		m = re.match(r"^(\d+):$", line)
		if m:
			seen.add(m.group(1))
		m = re.match(r"^(  \S+ +)(\d+)(\b.*)$", line)
		if m and re.match(r"^  j", line):
			lab = m.group(2)
			line = m.group(1) + lab + ("b" if lab in seen else "f") + \
				m.group(3)
		fixed.append(line)
	# Tidy the comment column after the label rewrite.
	tidy = []
	for line in fixed:
		m = re.match(r"^  (.*?) +; (.*)$", line)
		if m:
			line = "  %-34s ; %s" % (m.group(1), m.group(2))
		tidy.append(line)
	return "```\n" + "\n".join(tidy) + "\n```"


def producer(lib):
	"""'GNU C11 12.2.0 ... -O2 ...' of the unit holding malloc."""
	text = run("readelf", "--debug-dump=info", lib)
	prods = re.findall(r"DW_AT_producer\s*:.*?(GNU C\S* [^\n]*)", text)
	for p in prods:
		if "-fPIC" in p:
			p = re.sub(r" -m\S+", "", p)
			return p.strip()
	return prods[0].strip() if prods else "unknown"


BEGIN = "<!-- generated: %s (bin/gen-fastpath-doc) -->"
END = "<!-- end of generated: %s -->"


def doc(lib, path):
	"""DOC with every generated block filled in from LIB, on stdout."""
	gen = blocks(lib)
	with open(path) as f:
		text = f.read()
	keys = re.findall(r"<!-- generated: (\S+) \(bin/gen-fastpath-doc\) -->",
			  text)
	for key in keys:
		if key not in gen:
			raise SystemExit("%s: cannot generate block %s" % (path, key))
		b, e = BEGIN % key, END % key
		pat = re.compile(re.escape(b) + r".*?" + re.escape(e), re.S)
		if not pat.search(text):
			raise SystemExit("%s: block %s has no end" % (path, key))
		text = pat.sub(lambda m: b + "\n" + gen[key] + "\n" + e, text)
	sys.stdout.write(text)


def main():
	if len(sys.argv) == 4 and sys.argv[1] == "check":
		sys.exit(check(sys.argv[2], sys.argv[3]))
	if len(sys.argv) == 4 and sys.argv[1] == "doc":
		doc(sys.argv[2], sys.argv[3])
		return
	if len(sys.argv) == 3 and sys.argv[1] == "producer":
		print(producer(sys.argv[2]))
		return
	sys.exit(__doc__)


if __name__ == "__main__":
	main()
