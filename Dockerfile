# Build: a static binary, without cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that this layer stays cached while only source changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kefu ./cmd/kefu

# Run: distroless, as the non-root user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kefu /kefu
# The nonroot user's home is writable, so relative data paths work.
WORKDIR /home/nonroot
EXPOSE 8080
ENV KEFU_ADDR=:8080
USER nonroot:nonroot
ENTRYPOINT ["/kefu"]
CMD ["serve"]
