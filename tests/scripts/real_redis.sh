#!/usr/bin/env bash
# Debian's redis-server under kmem on 127.0.0.1, driven by redis-benchmark
# (a bounded number of requests) and by a deterministic command script
# whose replies must match those of a redis-server running with glibc.
. "$(dirname "$0")/lib/common.sh"
need_lib
need_cmd redis-server redis-cli redis-benchmark

# port= a free high port on the loopback interface (in this shell, not
# in $(...), so that fail ends the test).
pick_port() {
	local p
	for p in $(seq $((20000 + $$ % 20000)) $((20100 + $$ % 20000))); do
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; return; fi
	done
	fail "no free port"
}

start_server() {	# start_server glibc|kmem PORT
	local who=$1 port=$2 env=(env -u LD_PRELOAD)
	[ "$who" = kmem ] && env=(env LD_PRELOAD="$KMEM_LIB" KMEM_STATS=1)
	"${env[@]}" timeout "$TIMEOUT" redis-server --port "$port" --bind 127.0.0.1 \
		--save '' --appendonly no --daemonize no --dir "$tmp" \
		--logfile "$tmp/$who.log" 2>"$tmp/$who.err" &
	server_pid=$!
	cleanup_hooks+=("kill $server_pid 2>/dev/null")
	for _ in $(seq 1 100); do
		redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null | grep -q PONG && return
		kill -0 $server_pid 2>/dev/null || { cat "$tmp/$who.err" "$tmp/$who.log"; fail "redis-server under $who died"; }
		sleep 0.1
	done
	fail "redis-server under $who does not answer"
}

stop_server() {	# stop_server PORT: SHUTDOWN and wait for the exit status
	redis-cli -h 127.0.0.1 -p "$1" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait $server_pid
}

# The command script: strings, lists, hashes, sets, sorted sets, big values.
{
	for i in $(seq 1 3000); do
		echo "SET key:$i value-$((i * 7919 % 10007))-$(printf '%*s' $((i % 200)) | tr ' ' x)"
		echo "RPUSH list:$((i % 17)) item$i"
		echo "HSET hash:$((i % 23)) field$i $((i * i))"
		echo "SADD set:$((i % 5)) m$((i % 701))"
		echo "ZADD zset $((i * 31 % 1009)) z$i"
		[ $((i % 10)) = 0 ] && echo "DEL key:$((i - 5))"
		[ $((i % 500)) = 0 ] && echo "SET big:$i $(head -c $((i * 40)) /dev/zero | tr '\0' b)"
	done
	echo "DBSIZE"
	for i in $(seq 0 16); do echo "LRANGE list:$i 0 5"; echo "LLEN list:$i"; done
	for i in $(seq 0 22); do echo "HLEN hash:$((i))"; echo "HGET hash:$i field$((i + 23))"; done
	for i in $(seq 0 4); do echo "SCARD set:$i"; done
	echo "ZRANGE zset 0 20 WITHSCORES"
	echo "STRLEN big:3000"
	echo "GET key:2999"
} >"$tmp/cmds"

for who in glibc kmem; do
	pick_port
	start_server $who "$port"
	redis-cli -h 127.0.0.1 -p "$port" <"$tmp/cmds" >"$tmp/$who.replies" ||
		fail "redis-cli under $who"
	if [ $who = kmem ]; then
		spid=$(redis-cli -h 127.0.0.1 -p "$port" INFO server | tr -d '\r' |
			sed -n 's/^process_id://p')
		grep -q libkmem "/proc/$spid/maps" ||
			fail "libkmem.so is not mapped in redis-server (pid $spid)"
		redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -c 20 -P 4 -q \
			-t set,get,incr,lpush,lpop,sadd,hset,mset >"$tmp/bench" 2>&1 ||
			{ cat "$tmp/bench"; fail "redis-benchmark"; }
		tr '\r' '\n' <"$tmp/bench" | grep 'requests per second' | sed 's/^/  /'
		[ "$(tr '\r' '\n' <"$tmp/bench" | grep -c 'requests per second')" -ge 8 ] ||
			{ cat "$tmp/bench"; fail "redis-benchmark did not finish every test"; }
		redis-cli -h 127.0.0.1 -p "$port" INFO memory | grep -q used_memory: ||
			fail "INFO memory"
		redis-cli -h 127.0.0.1 -p "$port" PING | grep -q PONG || fail "server gone after the benchmark"
	fi
	stop_server "$port" || fail "redis-server under $who exited with an error"
done
check_loaded "$tmp/kmem.err"
same "$tmp/glibc.replies" "$tmp/kmem.replies" "replies to $(wc -l <"$tmp/cmds") commands"
