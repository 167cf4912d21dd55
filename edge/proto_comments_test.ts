import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { commentsOf } from "./proto_comments.ts";

Deno.test("commentsOf() keys leading comments by full name", () => {
  const file = create(FileDescriptorProtoSchema, {
    name: "demo.proto",
    package: "demo.v1",
    messageType: [{
      name: "Order",
      field: [{ name: "id" }, { name: "items" }],
      nestedType: [{ name: "Line", field: [{ name: "qty" }] }],
      enumType: [{ name: "Kind", value: [{ name: "KIND_A" }] }],
    }],
    enumType: [{ name: "Status", value: [{ name: "STATUS_UNSPECIFIED" }] }],
    service: [{ name: "OrderService", method: [{ name: "PlaceOrder" }] }],
    sourceCodeInfo: {
      location: [
        { path: [4, 0], leadingComments: " Order is an order.\n Second line.\n" },
        { path: [4, 0, 2, 1], leadingComments: " Product id → quantity.\n" },
        { path: [4, 0, 3, 0, 2, 0], leadingComments: " How many.\n" },
        { path: [4, 0, 4, 0, 2, 0], leadingComments: " The A kind.\n" },
        { path: [5, 0], leadingComments: " Where it is.\n" },
        { path: [6, 0], leadingComments: " Orders.\n" },
        { path: [6, 0, 2, 0], leadingComments: " Places one.\n" },
        { path: [4, 0, 2, 0], trailingComments: " not a leading comment\n" },
      ],
    },
  });
  assert.deepEqual(
    Object.fromEntries(commentsOf([file])),
    {
      "demo.v1.Order": "Order is an order.\nSecond line.",
      "demo.v1.Order.items": "Product id → quantity.",
      "demo.v1.Order.Line.qty": "How many.",
      "demo.v1.Order.Kind.KIND_A": "The A kind.",
      "demo.v1.Status": "Where it is.",
      "demo.v1.OrderService": "Orders.",
      "demo.v1.OrderService.PlaceOrder": "Places one.",
    },
  );
});

Deno.test("commentsOf() skips files without source info", () => {
  const file = create(FileDescriptorProtoSchema, { name: "x.proto", messageType: [{ name: "X" }] });
  assert.equal(commentsOf([file]).size, 0);
});
