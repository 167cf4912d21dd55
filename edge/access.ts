/**
 * Who may call each public RPC. The services enforce it (they verify the token and check roles
 * themselves); this table documents it in one place, for the OpenAPI document (`security`,
 * `x-stocklet-access`) and for the tests that keep it complete.
 * @module
 */

/**
 * `public`: no token needed (a token, if sent, must still be valid);
 * `user`: any signed-in user (services check ownership);
 * `admin`: the `admin` role.
 */
export type Access = "public" | "user" | "admin";

/** Every public RPC by full name (`<package>.<Service>.<Method>`) → who may call it. */
export const ACCESS: Readonly<Record<string, Access>> = {
  "stocklet.auth.v1.AuthService.ServiceInfo": "public",
  "stocklet.auth.v1.AuthService.GetJwks": "public",
  "stocklet.auth.v1.AuthService.GetRevocations": "public",
  "stocklet.auth.v1.AuthService.LoginPassword": "public",
  "stocklet.auth.v1.AuthService.SetPassword": "user",

  "stocklet.user.v1.UserService.ServiceInfo": "public",
  "stocklet.user.v1.UserService.RegisterUser": "public",
  "stocklet.user.v1.UserService.ViewUser": "user",

  "stocklet.product.v1.ProductService.ServiceInfo": "public",
  "stocklet.product.v1.ProductService.ViewProducts": "public",
  "stocklet.product.v1.ProductService.ViewProduct": "public",
  "stocklet.product.v1.ProductService.CreateProduct": "admin",
  "stocklet.product.v1.ProductService.UpdateProduct": "admin",

  "stocklet.warehouse.v1.WarehouseService.ServiceInfo": "public",
  "stocklet.warehouse.v1.WarehouseService.ViewProductStock": "public",
  "stocklet.warehouse.v1.WarehouseService.ViewStockLevels": "public",
  "stocklet.warehouse.v1.WarehouseService.ViewReservation": "user",
  "stocklet.warehouse.v1.WarehouseService.AddStock": "admin",

  "stocklet.order.v1.OrderService.ServiceInfo": "public",
  "stocklet.order.v1.OrderService.ViewOrder": "user",
  "stocklet.order.v1.OrderService.ViewOrders": "user",
  "stocklet.order.v1.OrderService.SearchOrders": "admin",
  "stocklet.order.v1.OrderService.PlaceOrder": "user",
  "stocklet.order.v1.OrderService.CancelOrder": "user",

  "stocklet.shipping.v1.ShippingService.ServiceInfo": "public",
  "stocklet.shipping.v1.ShippingService.ViewShipment": "user",
  "stocklet.shipping.v1.ShippingService.ViewShipmentManifest": "user",
  "stocklet.shipping.v1.ShippingService.DispatchShipment": "admin",
  "stocklet.shipping.v1.ShippingService.DeliverShipment": "admin",

  "stocklet.payment.v1.PaymentService.ServiceInfo": "public",
  "stocklet.payment.v1.PaymentService.ViewTransactions": "user",
  "stocklet.payment.v1.PaymentService.ViewTransaction": "user",
  "stocklet.payment.v1.PaymentService.ViewBalance": "user",
  "stocklet.payment.v1.PaymentService.CreditBalance": "admin",

  "stocklet.notification.v1.NotificationService.ServiceInfo": "public",
  "stocklet.notification.v1.NotificationService.ViewNotifications": "user",
};

/**
 * Who may call an RPC; an RPC missing from {@linkcode ACCESS} needs a user (the safe default, and
 * a test fails until the table names it).
 *
 * @param rpc The RPC's full name, e.g. `stocklet.order.v1.OrderService.PlaceOrder`.
 * @returns Its access class.
 * @example
 * ```ts
 * accessOf("stocklet.product.v1.ProductService.ViewProducts"); // "public"
 * ```
 */
export function accessOf(rpc: string): Access {
  return ACCESS[rpc] ?? "user";
}
