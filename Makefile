# Kefu's developer and CI commands. CI runs .ci/run, which runs `make test`.

GO ?= go

.PHONY: deps test build run bench fmt clean

# Install redis-server (and chromium for browser tests) when missing and possible.
deps:
	bash .ci/deps

# What CI runs: vet, formatting, and every test with the race detector.
test:
	bash .ci/deps redis
	$(GO) vet ./...
	@files="$$(gofmt -l .)"; if [ -n "$$files" ]; then \
		echo "gofmt needed (run make fmt):"; echo "$$files"; exit 1; \
	fi
	$(GO) test -race -count=1 ./...

build:
	CGO_ENABLED=0 $(GO) build -o bin/kefu ./cmd/kefu

run:
	$(GO) run ./cmd/kefu

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin coverage.out coverage.html
