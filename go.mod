module github.com/gosio/socketio

go 1.25.0

require (
	github.com/lxzan/gws v1.8.9
	go.uber.org/goleak v1.3.0
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
)
