package msgpack_test

import (
	"fmt"

	"github.com/gosio/socketio/parser"
	"github.com/gosio/socketio/parser/msgpack"
)

func Example() {
	// An event with a binary argument, built with the parser package.
	p, err := parser.NewEvent("/", "file", "a.txt", []byte("hi"))
	if err != nil {
		panic(err)
	}
	msgs, err := msgpack.Parser{}.Encode(p)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d binary message: %x\n", len(msgs), msgs[0].Data)

	// Decoding gives the placeholder representation back.
	q, err := msgpack.Parser{}.NewDecoder().Add(msgs[0].Data, msgs[0].Binary)
	if err != nil {
		panic(err)
	}
	fmt.Println(q.Type, string(q.Data), string(q.Attachments[0]))
	// Output:
	// 1 binary message: 83a47479706502a46461746193a466696c65a5612e747874c4026869a36e7370a12f
	// BINARY_EVENT ["file","a.txt",{"_placeholder":true,"num":0}] hi
}
