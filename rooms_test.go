package socketio_test

import (
	"strconv"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// A client joins 100k rooms through the application's handler, one Join
// per room, then its connection drops: the joins and the disconnect cost
// O(1) per room, so both finish well within the bound, and another
// socket's joins are not held up for long meanwhile.
func TestManyRoomsJoinAndDisconnect(t *testing.T) {
	const n = 100_000
	const budget = 10 * time.Second
	io, url, rec := newTestServer(t, socketio.Config{})
	start := time.Now()
	io.OnConnection(func(s *socketio.Socket) {
		socketio.OnAck(s, "join-many", func(n int) (string, error) {
			for i := range n {
				s.Join("r" + strconv.Itoa(i))
				if i%1000 == 0 && time.Since(start) > budget {
					return "too slow after " + strconv.Itoa(i), nil
				}
			}
			return "ok", nil
		})
	})
	big, id := rawSocket(t, url, "/")
	big.Send(`421["join-many",` + strconv.Itoa(n) + `]`)
	big.Expect(`431["ok"]`)
	if got := io.MainNamespace().Socket(id).Rooms().Len(); got != n+1 {
		t.Fatalf("%d rooms, want %d", got, n+1)
	}

	_, otherID := rawSocket(t, url, "/")
	other := io.MainNamespace().Socket(otherID)
	stop, done := make(chan struct{}), make(chan time.Duration)
	go func() {
		var longest time.Duration
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- longest
				return
			default:
			}
			t0 := time.Now()
			other.Join("o" + strconv.Itoa(i%64))
			longest = max(longest, time.Since(t0))
			time.Sleep(time.Millisecond)
		}
	}()
	_ = big.Conn.NetConn().Close()
	rec.reason(t, id)
	close(stop)
	longest := <-done
	if el := time.Since(start); el > budget {
		t.Fatalf("100k joins and the disconnect took %v", el)
	}
	if longest > budget/4 {
		t.Fatalf("another socket's join waited %v during the disconnect", longest)
	}
	if got := io.MainNamespace().To("r7").SocketIDs(); len(got) != 0 {
		t.Fatalf("room r7 still has %v", got)
	}
}
