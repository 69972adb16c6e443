package redis_test

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Garbage on every channel of the adapters (the fuzz corpus, plus messages
// that decode but make no sense) is dropped: the servers keep working.
func TestMalformedMessagesLive(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, proto string) {
		key := randomKey(t)
		client := newClient(t, redisAddr)
		a := newGoNode(t, client, key, "A", proto)
		b := newGoNode(t, client, key, "B", proto)
		ca, cb := newClients(t, a.url), newClients(t, b.url)
		ca.connect("a1")
		cb.connect("b1")
		cb.join("b1", "room1")
		waitCount(t, a.io, 2)

		payloads := [][]byte{
			nil, []byte("{"), []byte("{}"), []byte(`{"type":7}`), []byte(`{"type":5,"requestId":"x"}`),
			[]byte(`{"type":6,"data":null}`), []byte(`{"type":2,"opts":5,"rooms":"x"}`), []byte(`{"type":8,"requestId":"x","clientCount":"a"}`),
			[]byte(`{"type":3,"data":{"packet":{"type":2,"data":[]},"opts":{}},"uid":"x","nsp":"/"}`),
			[]byte(`{"type":3,"data":{"packet":{"type":2,"data":[1]},"opts":{}},"uid":"x","nsp":"/"}`),
			[]byte(`{"type":9,"data":{"packet":"x"},"uid":"x","nsp":"/"}`),
			[]byte(`{"type":7,"data":{"opts":{"rooms":[1,2,null]},"requestId":"r"},"uid":"x","nsp":"/"}`),
		}
		for _, h := range []string{"93a178c0c0", "93a17881a474797065028190", "c6ffffffff", "91" + strings.Repeat("91", 600) + "c0",
			"85a3756964a178a9726571756573744964a172a474797065 07a67061636b657480a46f70747380"} {
			raw, _ := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
			payloads = append(payloads, raw)
		}
		files, _ := filepath.Glob("testdata/fuzz/FuzzDecode/*")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// go test fuzz v1 / []byte("...")
			lines := strings.SplitN(string(b), "\n", 3)
			if len(lines) < 2 {
				continue
			}
			s := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
			if u, err := strconv.Unquote(s); err == nil {
				payloads = append(payloads, []byte(u))
			}
		}
		ctx := context.Background()
		var channels []string
		switch proto {
		case "classic":
			channels = []string{key + "#/#", key + "#/#room1#", key + "-request#/#", key + "-response#/#"}
		default:
			channels = []string{key + "#/#", key + "#/#room1#"}
		}
		for _, ch := range channels {
			for _, p := range payloads {
				var err error
				if proto == "sharded" {
					err = client.SPublish(ctx, ch, p).Err()
				} else {
					err = client.Publish(ctx, ch, p).Err()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		if proto == "streams" {
			for i, p := range payloads {
				for _, vals := range [][]any{
					{"uid", "x", "nsp", "/", "type", "3", "data", string(p)},
					{"uid", "x", "nsp", "/", "type", strconv.Itoa(i), "data", hex.EncodeToString(p)},
					{"nsp", "/", "type", "x"},
					{"nsp", "/", "type", "4", "data", "{\"opts\":7}"},
				} {
					if err := client.XAdd(ctx, &goredis.XAddArgs{Stream: key, Values: vals}).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		t.Logf("%d malformed messages published", len(channels)*len(payloads))
		_ = a.io.To("room1").Emit("still-alive", 1)
		cb.eventIs("b1", "still-alive", `[1]`)
		_ = b.io.Emit("still-alive-b")
		ca.eventIs("a1", "still-alive-b", `[]`)
	})
}
