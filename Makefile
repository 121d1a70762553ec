# Kefu's developer and CI commands. CI runs .ci/run, which runs `make test`.

GO ?= go

.PHONY: deps test build run bench eval fmt clean

# Install redis-server (and chromium for browser tests) when missing and possible.
deps:
	bash .ci/deps

# What CI runs: vet, formatting, and every test with the race detector.
test:
	bash .ci/deps
	$(GO) vet ./...
	@files="$$(gofmt -l .)"; if [ -n "$$files" ]; then \
		echo "gofmt needed (run make fmt):"; echo "$$files"; exit 1; \
	fi
	$(GO) test -race -count=1 ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/kefu ./cmd/kefu

run:
	$(GO) run ./cmd/kefu

# A big shop's knowledge, 50,000 articles generated from the bundled ones (all different):
# "kefu serve" run as a process of its own, its first start (importing the articles,
# building the index) and a restart until /readyz answers, the CPU time each took, the
# process's peak resident memory (VmHWM) and what it holds once ready, then Decide p50/p99
# on that index; and the longest Redis is held by a seed of 50,000 articles (SLOWLOG). These
# two take about 5 minutes on two busy cores, most of it the first start.
# Decide latency (p50, p99) and index build time with 10,000 articles generated from the
# bundled ones. The 10,000-article index is built once per package (about half a minute
# on two cores; kb's search reuses the timed build), so each step has its own benchtime:
# 10s times one build while a build takes longer, Decide at 10k runs 2,000 times so
# that its p99 rests on 20 samples.
# Hand-off routing (enqueue, claim, auto-assign; 1 and 16 callers) and the shopper's wait
# from 「转人工」 to the queue-position frame run against a real redis-server that the
# test helper starts (AOF, fsync always). A queue move runs with 1,000 shoppers waiting
# on Redis: the time until every other shopper is told their new place, and the Redis
# commands it took per waiting shopper. The memory of an idle shopper socket is read off
# a server process of its own with 10,000 sockets open, beside a bare gorilla/websocket
# server in the same run. Then 5,000 idle sockets on a gateway node beside 200 chats
# whose agents, on a second node, reply 1,000 times a second for 5 s: what the idle
# sockets cost the busy ones, and what idleness costs Redis (a 20 s quiet spell).
bench:
	@echo '== knowledge at 50,000 articles: first start, restart, peak memory, Decide p50/p99 (kefu serve as a process)'
	$(GO) test -run='^$$' -bench='^BenchmarkKnowledge50k$$' -benchtime=1x -timeout=30m ./cmd/kefu
	@echo '== kb: seeding 50,000 articles into Redis (the longest command, by SLOWLOG)'
	$(GO) test -run='^$$' -bench='^BenchmarkSeedRedis50k$$' -benchtime=1x ./kb
	@echo '== kb: index build and search, 10,000 articles'
	$(GO) test -run='^$$' -benchmem -bench='^Benchmark(IndexBuild|Search)10k$$' -benchtime=10s ./kb
	@echo '== kb: a start with the index on disk, built anew or reused (bundled and 10,000 articles)'
	$(GO) test -run='^$$' -bench='^BenchmarkStart$$' -benchtime=1x ./kb
	@echo '== bot: Decide, bundled articles'
	$(GO) test -run='^$$' -benchmem -bench='^BenchmarkDecideBundled$$' -benchtime=2000x ./bot
	@echo '== bot: Decide, 10,000 articles'
	$(GO) test -run='^$$' -benchmem -bench='^BenchmarkDecide10k$$' -benchtime=2000x ./bot
	@echo '== handoff: enqueue, claim and auto-assign on Redis (ops/s, p50, p99)'
	$(GO) test -run='^$$' -bench='^BenchmarkRouting$$' -benchtime=1000x ./handoff/redisstore
	@echo '== widget: hand-off to the queue-position frame over a websocket, Redis'
	$(GO) test -run='^$$' -bench='^BenchmarkHandoffToQueueFrame$$' -benchtime=200x ./widget
	@echo '== widget: a queue move with 1,000 shoppers waiting, Redis (time until all are told; Redis commands per waiting shopper)'
	$(GO) test -run='^$$' -bench='^BenchmarkQueueMove$$' -benchtime=20x ./widget
	@echo '== widget: server memory per idle shopper socket with 10,000 open (bare gorilla/websocket, embedded, Redis; and 2,000 on Redis after a chat with the bot)'
	$(GO) test -run='^$$' -bench='^BenchmarkIdleSocketMemory$$' -benchtime=1x ./widget
	@echo '== widget: replies at 1,000/s to 200 chats beside 5,000 idle sockets, two nodes on Redis (delivery p50/p99, deliveries per CPU-second of the gateway node, Redis commands per delivery, idle Redis commands per socket a second)'
	$(GO) test -run='^$$' -bench='^BenchmarkDeliveryIdle5k$$' -benchtime=1x ./widget

# Measure the bot: the project's labelled set on the bundled knowledge and its small-talk
# set (precision and recall of small talk), then, when
# PUBLIC_EVAL names a directory of them, the public sets (HINT3's two shops, Bitext with
# CLINC150's out-of-scope questions: hint3/, bitext/, clinc150/ in the format of
# knowledge/eval/README.md), each beside plain bleve as the baseline.
PUBLIC_EVAL ?=
eval:
	$(GO) build -o bin/kefu ./cmd/kefu
	bin/kefu eval --baseline --title "Kefu's own set" --questions knowledge/eval/questions.jsonl
	bin/kefu eval --title "Kefu's small-talk set" --questions knowledge/eval/smalltalk.jsonl
	@if [ -n "$(PUBLIC_EVAL)" ] && [ -d "$(PUBLIC_EVAL)" ]; then \
	  bin/kefu eval --baseline --misses 0 --title "HINT3 SOFMattress" --kb $(PUBLIC_EVAL)/hint3/sofmattress.articles.jsonl --questions $(PUBLIC_EVAL)/hint3/sofmattress.questions.jsonl && \
	  bin/kefu eval --baseline --misses 0 --title "HINT3 Curekart" --kb $(PUBLIC_EVAL)/hint3/curekart.articles.jsonl --questions $(PUBLIC_EVAL)/hint3/curekart.questions.jsonl && \
	  bin/kefu eval --baseline --misses 0 --title "Bitext + CLINC150 out of scope" --kb $(PUBLIC_EVAL)/bitext/bitext.articles.jsonl --questions $(PUBLIC_EVAL)/bitext/bitext.questions.jsonl,$(PUBLIC_EVAL)/clinc150/clinc150-oos.questions.jsonl; \
	else echo "no PUBLIC_EVAL directory: the public sets are skipped"; fi

fmt:
	gofmt -w .

clean:
	rm -rf bin coverage.out coverage.html
