module github.com/gosio/socketio/examples/routers/chi

go 1.25.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/gosio/socketio v0.1.0
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/lxzan/gws v1.8.9 // indirect
)
