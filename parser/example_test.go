package parser_test

import (
	"fmt"
	"log"

	"github.com/gosio/socketio/parser"
)

func ExampleNewEvent() {
	p, err := parser.NewEvent("/", "message", []byte{1, 2, 3}, map[string]any{"nested": []byte{4, 5, 6}})
	if err != nil {
		log.Fatal(err)
	}
	text, attachments, err := parser.Encode(p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(text))
	fmt.Println(attachments)
	// Output:
	// 52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]
	// [[1 2 3] [4 5 6]]
}

func ExampleDecoder() {
	var d parser.Decoder
	messages := []struct {
		data   string
		binary bool
	}{
		{`51-0["upload",{"name":"a.bin","data":{"_placeholder":true,"num":0}}]`, false},
		{"\x01\x02", true},
	}
	for _, m := range messages {
		p, err := d.Add([]byte(m.data), m.binary)
		if err != nil {
			log.Fatal(err) // a server closes the connection: "parse error"
		}
		if p == nil {
			continue // waiting for attachments
		}
		name, args, err := parser.DecodeEvent(p)
		if err != nil {
			log.Fatal(err)
		}
		var file struct {
			Name string `json:"name"`
			Data []byte `json:"data"`
		}
		if err := parser.Unmarshal(args[0], p.Attachments, &file); err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.Type, name, p.ID, file.Name, file.Data)
	}
	// Output:
	// BINARY_EVENT upload 0 a.bin [1 2]
}
