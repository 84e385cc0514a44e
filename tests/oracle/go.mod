module kiln.test/oracle

go 1.26.0

require (
	github.com/distribution/reference v0.6.0
	github.com/moby/patternmatcher v0.6.1
)

require github.com/opencontainers/go-digest v1.0.0 // indirect
