module github.com/gosio/socketio/examples/routers/echo

go 1.25.0

require (
	github.com/gosio/socketio v0.1.0
	github.com/labstack/echo/v5 v5.4.6
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/lxzan/gws v1.8.9 // indirect
	golang.org/x/time v0.15.0 // indirect
)
