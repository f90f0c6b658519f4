// module storage
